import { readFileSync, rmSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { PAGE_BYTES } from '../../../src-main/core/api/paging'
import type { EntitySummary, StatusView } from '../../../src-main/core/api/types'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'
import { type FloodMessage, publishAll } from '../../helpers/flood'
import { readAllPages } from '../../helpers/pages'

// Auto-registration floods against the real `edgetwin serve` (run `npm run build` first): the API
// keeps answering with pages of bounded size, and the serve process's memory is read from
// /proc/<pid>/status and reported.

const processes = new CliProcesses()
const dirs: string[] = []
const clients: MqttClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)))
  await processes.cleanup()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Resident memory of a process in MB, now and at its peak (VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024
  return { rss: mb('VmRSS'), peak: mb('VmHWM') }
}

/** Data on `te/device/<prefix>N///m/env`: each message auto-registers a new child device. */
const measurements = (prefix: string, count: number): FloodMessage[] =>
  Array.from({ length: count }, (_, k) => ({ topic: `te/device/${prefix}${k}///m/env`, payload: '{"v":1}' }))

async function serve(args: string[]): Promise<ServingCli> {
  const dir = tempDir()
  dirs.push(dir)
  return processes.serve(dir, { args: [...args, '--log-level', 'warn'] })
}

async function connect(core: ServingCli, count: number): Promise<MqttClient[]> {
  const connected = await Promise.all(
    Array.from({ length: count }, (_, c) =>
      mqtt.connectAsync(core.ready.mqtt, { clientId: `flood-${c}`, reconnectPeriod: 0 }),
    ),
  )
  clients.push(...connected)
  return connected
}

/** Polls /api/v1/health while `work` runs; resolves with the slowest answer in ms. */
async function whileAnswering(core: ServingCli, work: () => Promise<void>): Promise<number> {
  let done = false
  let slowest = 0
  const probe = (async () => {
    while (!done) {
      const started = performance.now()
      const response = await core.http('/api/v1/health')
      expect(response.status).toBe(200)
      await response.arrayBuffer()
      slowest = Math.max(slowest, performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  try {
    await work()
  } finally {
    done = true
    await probe
  }
  return slowest
}

describe('an auto-registration flood', () => {
  it('100,000 auto-registered entities (caps raised): the API answers and pages stay bounded', async () => {
    const core = await serve(['--max-entities', '100002', '--max-auto-registered-per-client', '25000'])
    const pid = core.ready.pid
    const idle = memory(pid)
    const publishers = await connect(core, 4)
    const started = performance.now()
    const slowestHealth = await whileAnswering(core, () =>
      publishAll(publishers, measurements('f', 100_000), 100),
    )
    const floodSeconds = (performance.now() - started) / 1000
    const status = await core.json<StatusView>('/api/v1/status')
    expect(status.entities).toBe(100_002)

    const read = performance.now()
    const pages = await readAllPages<EntitySummary>(core.http, '/api/v1/entities?limit=10000')
    const readSeconds = (performance.now() - read) / 1000
    expect(pages.rows).toHaveLength(100_002)
    expect(new Set(pages.rows.map((e) => e.id)).size).toBe(100_002)
    for (const size of pages.sizes) expect(size).toBeLessThanOrEqual(PAGE_BYTES)
    const first = await core.http('/api/v1/entities')
    expect(((await first.json()) as EntitySummary[]).length).toBe(1000)
    const after = memory(pid)
    console.info(
      `100,000 entities: flood ${floodSeconds.toFixed(1)} s, slowest /health ${slowestHealth.toFixed(0)} ms; ` +
        `${pages.urls.length} pages of at most ${Math.max(...pages.sizes)} B read in ${readSeconds.toFixed(1)} s; ` +
        `serve RSS idle ${idle.rss.toFixed(0)} MB, after ${after.rss.toFixed(0)} MB, peak ${after.peak.toFixed(0)} MB`,
    )
  }, 300_000)

  it('with the default caps, a flood from many clients fills the registry and no more: RSS under twice idle, the API answering', async () => {
    const core = await serve([])
    const pid = core.ready.pid
    const idle = memory(pid)
    // Eight clients of 1,700 new ids each: each may auto-register 1,000, and all of them 5,000.
    const publishers = await connect(core, 8)
    const slowestHealth = await whileAnswering(core, () =>
      publishAll(publishers, measurements('g', 8 * 1_700), 100),
    )
    const status = await core.json<StatusView>('/api/v1/status')
    expect(status.entities).toBe(5_000)
    expect(status.ingest.rejected).toBe(8 * 1_700 - (5_000 - 2))
    const pages = await readAllPages<EntitySummary>(core.http, '/api/v1/entities')
    expect(pages.rows).toHaveLength(5_000)
    for (const size of pages.sizes) expect(size).toBeLessThanOrEqual(PAGE_BYTES)
    const after = memory(pid)
    console.info(
      `13,600 new ids from 8 clients, default caps: slowest /health ${slowestHealth.toFixed(0)} ms; ` +
        `serve RSS idle ${idle.rss.toFixed(0)} MB, after ${after.rss.toFixed(0)} MB, peak ${after.peak.toFixed(0)} MB`,
    )
    expect(after.peak).toBeLessThan(2 * idle.rss)
  }, 300_000)
})
