import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { StatusView } from '../../../src-main/core/api/types'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// A full disk, for real: the data dir on a small tmpfs, filled up while devices publish at QoS 1.
// Every PUBACK must still mean stored, the API must keep answering and say why, and ingest must
// come back by itself once space is freed (issue: "acknowledged means stored"; DESIGN §4).

const processes = new CliProcesses()
const clients: MqttClient[] = []
const mounts: string[] = []

beforeAll(() => {
  expect(process.getuid?.(), 'these tests mount a tmpfs: run them as root (CI does)').toBe(0)
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
  await processes.cleanup()
})
afterAll(() => {
  for (const mount of mounts) {
    execFileSync('umount', ['-l', mount])
    rmSync(mount, { recursive: true, force: true })
  }
})

/** A fresh tmpfs of `mib` MiB. */
function volume(mib: number): string {
  const dir = tempDir('edgetwin-volume-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir])
  mounts.push(dir)
  return dir
}

const MiB = 1024 * 1024

/** Writes a file until the volume has at most `leave` bytes free (0: until ENOSPC). */
function fill(dir: string, leave = 0): string {
  const file = path.join(dir, `fill-${Date.now()}.bin`)
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) {
      const free = freeBytes(dir)
      if (leave > 0 && free <= leave) break
      const size = leave > 0 ? Math.min(chunk.length, free - leave) : chunk.length
      writeSync(fd, chunk, 0, Math.max(1, size))
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return file
}

function freeBytes(dir: string): number {
  const stats = statfsSync(dir)
  return stats.bavail * stats.bsize
}

interface Publisher {
  acked: Set<number>
  stop(): Promise<void>
}

/**
 * Streams QoS 1 measurements with distinct times (20 in flight) and reconnects whenever the broker
 * drops it, as a device does; records each time whose PUBACK came.
 */
async function publisher(core: ServingCli, base: number): Promise<Publisher> {
  const client = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 100, connectTimeout: 2000 })
  clients.push(client)
  const acked = new Set<number>()
  let running = true
  let stopped: () => void = () => {}
  const stopping = new Promise<void>((resolve) => {
    stopped = resolve
  })
  const loop = (async () => {
    const inFlight = new Set<Promise<void>>()
    for (let i = 0; running; i++) {
      const time = base + i
      const p: Promise<void> = client
        .publishAsync('te/device/disk01///m/load', JSON.stringify({ time: time / 1000, value: i }), {
          qos: 1,
        })
        .then(
          () => {
            acked.add(time)
          },
          () => {},
        )
        .finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (inFlight.size >= 20) await Promise.race([stopping, ...inFlight])
    }
  })()
  return {
    acked,
    async stop() {
      running = false
      stopped()
      await loop
      await client.endAsync(true)
    },
  }
}

/** Every time stored for the test series from `base` to `last`, through the API (raw windows). */
async function storedTimes(core: ServingCli, base: number, last: number): Promise<Set<number>> {
  const detail = await core.json<{ series: Array<{ id: number; name: string }> }>(
    `/api/v1/entities/${encodeURIComponent('device/disk01//')}`,
  )
  const series = detail.series.find((s) => s.name === 'value')
  const times = new Set<number>()
  if (!series) return times
  // One value per ms at most: a window of 9,000 ms has at most 9,000 values, answered raw.
  for (let from = base - 1; from <= last; from += 9000) {
    const answer = await core.json<{ resolution: string; points: Array<{ time: number }> }>(
      `/api/v1/series/${series.id}?from=${from}&to=${from + 9000}&points=10000`,
    )
    expect(answer.resolution).toBe('raw')
    for (const point of answer.points) times.add(Math.round(point.time))
  }
  return times
}

/** Polls the status every 100 ms, recording the slowest answer, until `until` holds. */
async function watchStatus(core: ServingCli, until: (status: StatusView) => boolean): Promise<StatusView> {
  let slowest = 0
  return vi.waitFor(
    async () => {
      const started = performance.now()
      const status = await core.json<StatusView>('/api/v1/status')
      slowest = Math.max(slowest, performance.now() - started)
      expect(slowest, 'the API answers promptly while the disk is full').toBeLessThan(2000)
      if (!until(status)) throw new Error(`status not there yet: ${JSON.stringify(status.disk)}`)
      return status
    },
    { timeout: 20_000, interval: 100 },
  )
}

function integrityCheck(dir: string): string {
  const db = new Database(path.join(dir, 'edgetwin.db'), { readonly: true, fileMustExist: true })
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

/**
 * Fills the data dir's volume under a QoS 1 publisher (slowly below the reserve first, when there is
 * one), checks devices are refused rather than acknowledged, frees the space and checks ingest comes
 * back by itself; then that every acknowledged value was stored.
 */
async function fillAndRecover(reserve: string): Promise<void> {
  const mount = volume(48)
  const dir = path.join(mount, 'data')
  mkdirSync(dir)
  const core = await processes.serve(dir, { args: ['--min-free-disk', reserve] })
  const base = Date.now() - 10 * 60_000
  const device = await publisher(core, base)
  await vi.waitFor(() => expect(device.acked.size).toBeGreaterThan(2000), { timeout: 20_000 })

  const blocks: string[] = []
  if (reserve !== '0') {
    blocks.push(fill(mount, 2 * MiB))
    const low = await watchStatus(core, (s) => s.disk.condition !== 'ok')
    expect(low.disk.condition).toBe('low')
    expect(low.disk.reason).toMatch(/disk almost full: .* below the 4 MiB reserve/)
    const alarms = await core.json<Array<{ type: string; severity: string }>>(
      `/api/v1/alarms?entity=${encodeURIComponent('device/main/service/edgetwin')}`,
    )
    expect(alarms.find((a) => a.type === 'disk_full')).toMatchObject({ severity: 'major' })
  }
  blocks.push(fill(mount))
  const full = await watchStatus(core, (s) => s.disk.condition !== 'ok')
  expect(full.disk.reason).toMatch(/^disk (full|almost full)/)

  // A new message is refused: no PUBACK, the connection closed, the reason on te/errors. (The
  // device's own messages in flight when the store failed wait for their PUBACK instead.)
  const watcher = await mqtt.connectAsync(core.ready.mqtt)
  clients.push(watcher)
  const reasons: string[] = []
  watcher.on('message', (_, payload) => reasons.push(String(JSON.parse(payload.toString()).error)))
  await watcher.subscribeAsync('te/errors', { qos: 0 })
  const late = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })
  clients.push(late)
  const closed = new Promise<void>((resolve) => late.once('close', () => resolve()))
  let lateAcked = false
  void late.publishAsync('te/device/disk02///m/load', '{"value":1}', { qos: 1 }).then(
    () => {
      lateAcked = true
    },
    () => {},
  )
  await closed
  expect(lateAcked).toBe(false)
  await vi.waitFor(() => expect(reasons.some((r) => /^disk (full|almost full)/.test(r))).toBe(true))
  expect((await core.json<StatusView>('/api/v1/status')).ingest.refused).toBeGreaterThan(0)
  const ackedWhileFull = device.acked.size
  await new Promise((resolve) => setTimeout(resolve, 1000))
  expect(device.acked.size).toBe(ackedWhileFull)

  for (const block of blocks) rmSync(block)
  const recovered = await watchStatus(core, (s) => s.disk.condition === 'ok')
  expect(recovered.disk.reason).toBeNull()
  await vi.waitFor(() => expect(device.acked.size).toBeGreaterThan(ackedWhileFull + 2000), {
    timeout: 20_000,
  })
  await vi.waitFor(async () => {
    const alarms = await core.json<Array<{ type: string }>>(
      `/api/v1/alarms?entity=${encodeURIComponent('device/main/service/edgetwin')}&status=active`,
    )
    expect(alarms.map((a) => a.type)).not.toContain('disk_full')
  })
  await device.stop()

  // Every acknowledged value is in the store: before, during and after the full disk.
  const last = [...device.acked].reduce((a, b) => Math.max(a, b), 0)
  const stored = await storedTimes(core, base, last)
  const lost = [...device.acked].filter((time) => !stored.has(time))
  expect(lost, `${lost.length} of ${device.acked.size} acknowledged values not stored`).toEqual([])
  core.child.kill('SIGTERM')
  expect((await core.exited).code).toBe(0)
  expect(integrityCheck(dir)).toBe('ok')
}

describe('a full disk', { timeout: 120_000 }, () => {
  it('that fails the store: acknowledges only what it stored, keeps answering, recovers without a restart', () =>
    fillAndRecover('0'))

  it('below the reserve: refuses devices before the store fails, raises an alarm, recovers without a restart', () =>
    fillAndRecover('4MiB'))

  it('of the log volume alone drops log lines, counted, and the core keeps serving', async () => {
    const dir = path.join(tempDir('edgetwin-logfull-'), 'data')
    mkdirSync(dir)
    const logs = path.join(dir, 'logs')
    mkdirSync(logs)
    const mount = volume(1)
    execFileSync('mount', ['--bind', mount, logs])
    mounts.push(logs)
    const core = await processes.serve(dir, { args: ['--log-level', 'debug'] })
    fill(mount)
    const device = await publisher(core, Date.now() - 60_000)
    // Rejected messages are logged (warn): each one is a line the full volume cannot take.
    const noisy = await mqtt.connectAsync(core.ready.mqtt)
    clients.push(noisy)
    for (let i = 0; i < 200; i++) await noisy.publishAsync('te/device/disk01///m/bad', 'not json', { qos: 1 })
    const status = await watchStatus(core, (s) => s.logs.dropped > 0)
    expect(status.logs.error).toMatch(/ENOSPC/)
    await vi.waitFor(() => expect(device.acked.size).toBeGreaterThan(1000), { timeout: 20_000 })
    expect((await core.http('/api/v1/health')).status).toBe(200)
    await device.stop()
    core.child.kill('SIGTERM')
    expect((await core.exited).code).toBe(0)
  })
})
