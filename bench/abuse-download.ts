// (n7) A big software module: a `software_update` requested over MQTT (no credential, as any local
// client can) whose `file`-type module URL streams a large body from a local HTTP server that
// generates it while sending. The core's peak RSS against its idle RSS, and how the command ended.
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import type { OperationDetail, OperationView } from '../src-main/core/api/types'
import { startStreamServer } from '../test/helpers/stream-server'
import { type HealthSummary, idleRss, watchHealth } from './abuse-probes'
import { Api } from './api'
import { memoryOf, removeDir, spawnCore, tempDir, waitFor } from './processes'

export interface DownloadConfig {
  bytes: number
  timeoutMs: number
}

export interface DownloadResult {
  bytes: number
  status: string
  reason: string | null
  /** Size of the installed file, or undefined when there is none. */
  installedBytes?: number
  seconds: number
  idleRss: number
  peakRss: number
  rssAfter: number
  health: HealthSummary
}

export async function bigDownload(config: DownloadConfig): Promise<DownloadResult> {
  const server = await startStreamServer()
  const dataDir = tempDir('abuse-download')
  const core = await spawnCore(dataDir)
  try {
    const api = new Api(core.ready)
    const idle = await idleRss(core.pid)
    const stopHealth = watchHealth(core.ready, 200)
    const cmdId = 'bench-big-1'
    const client = await mqtt.connectAsync(core.ready.mqtt, {
      clientId: 'bench-downloader',
      reconnectPeriod: 0,
    })
    const payload = {
      status: 'init',
      updateList: [
        {
          type: 'file',
          modules: [
            {
              name: 'blob',
              version: '1',
              url: server.bytes(config.bytes, { chunked: true }),
              action: 'install',
            },
          ],
        },
      ],
    }
    const started = performance.now()
    await client.publishAsync(`te/device/main///cmd/software_update/${cmdId}`, JSON.stringify(payload), {
      qos: 1,
      retain: true,
    })
    await client.endAsync()
    const done = await waitFor(
      `${cmdId} ended`,
      async () => {
        const list = await api.get<OperationView[]>('/api/v1/operations?operation=software_update')
        const found = list.find((o) => o.cmdId === cmdId)
        return found?.terminal ? api.get<OperationDetail>(`/api/v1/operations/${found.id}`) : undefined
      },
      config.timeoutMs,
      250,
    )
    const seconds = (performance.now() - started) / 1000
    const health = await stopHealth()
    const memory = memoryOf(core.pid)
    const installed = path.join(dataDir, 'software', 'file', 'blob')
    return {
      bytes: config.bytes,
      status: done.status,
      reason: done.reason,
      installedBytes: existsSync(installed) ? statSync(installed).size : undefined,
      seconds,
      idleRss: idle,
      peakRss: memory.peak,
      rssAfter: memory.rss,
      health,
    }
  } finally {
    await core.stop()
    await server.close()
    removeDir(dataDir)
  }
}
