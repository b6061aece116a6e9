// (n2) A full disk under QoS 1 ingest: the data dir (database and logs, the default layout) on a
// small tmpfs, filled for a while and freed again while a device publishes. Every PUBACK is checked
// against what the API answers afterwards, the API is probed throughout, and ingest must come back
// without a restart.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt from 'mqtt'
import type { StatusView } from '../src-main/core/api/types'
import { ANSWER_TIMEOUT_MS, type HealthSummary, watchHealth } from './abuse-probes'
import { Api } from './api'
import { onCleanup, sleep, spawnCore, waitFor } from './processes'

export interface DiskConfig {
  volumeMiB: number
  /** How long the volume stays full. */
  fullSeconds: number
  /** QoS 1 messages the device keeps unacknowledged. */
  inFlight: number
  /** Acknowledged before the fill, and again after it to count as resumed. */
  acks: number
  /** `--min-free-disk`: 0 lets the store itself fail, as when the disk fills faster than the reserve. */
  reserve: string
}

export interface DiskResult {
  /** The device's publishes and PUBACKs (the new devices' not included). */
  published: number
  acked: number
  /** PUBACKs that arrived while the volume was full, the new devices' included. */
  ackedWhileFull: number
  /** New devices that each sent one value while the volume was full, by outcome. */
  late: { acknowledged: number; refused: number; unanswered: number }
  /** Acknowledged values the API does not have. */
  lost: number
  lostWhileFull: number
  /** Values the API has from the test series (each time once). */
  stored: number
  /** Free bytes on the volume just after the fill. */
  freeAfterFill: number
  /** Conditions `GET /api/v1/status` reported while the volume was full. */
  conditions: string[]
  reason: string | null
  /** Messages the core refused (its status), unless it had to be restarted to count. */
  refused?: number
  reconnects: number
  health: HealthSummary
  /** Slowest `GET /api/v1/status` while full (the token-protected API). */
  statusMaxMs: number
  statusFailed: number
  /** Seconds from freeing the space until the device had `acks` more PUBACKs; undefined: never. */
  resumeSeconds?: number
  /** Every window of the stored count answered at raw resolution (else the count means nothing). */
  rawWindows: boolean
  /** Exit code on SIGTERM, or the code or signal of a core that had ended by itself (`died`). */
  exitCode: number | null
  died?: string
  /** The core had died or stopped answering: a new one on the data dir did the counting. */
  restarted: boolean
  integrity: string
}

function mountTmpfs(mib: number): { dir: string; unmount: () => void } {
  if (process.getuid?.() !== 0)
    throw new Error('this phase mounts a tmpfs (mount -t tmpfs) for its data dir: run the bench as root')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-bench-volume-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir])
  const undo = () => {
    execFileSync('umount', ['-l', dir])
    rmSync(dir, { recursive: true, force: true })
  }
  const cancel = onCleanup(undo)
  return {
    dir,
    unmount: () => {
      cancel()
      undo()
    },
  }
}

/** Writes a file until ENOSPC. */
function fill(dir: string): string {
  const file = path.join(dir, 'fill.bin')
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return file
}

const TOPIC = 'te/device/disk01///m/load'

/** A device streaming QoS 1 values with distinct times (one ms apart), reconnecting when dropped. */
async function device(url: string, base: number, inFlight: number) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, connectTimeout: 2000 })
  const acked: number[] = []
  let published = 0
  let reconnects = 0
  client.on('reconnect', () => reconnects++)
  let running = true
  let closing: Promise<void> | undefined
  let stopped: () => void = () => {}
  const stopping = new Promise<void>((resolve) => {
    stopped = resolve
  })
  const loop = (async () => {
    const pending = new Set<Promise<void>>()
    for (let i = 0; running; i++) {
      const time = base + i
      published++
      const p: Promise<void> = client
        .publishAsync(TOPIC, JSON.stringify({ time: time / 1000, value: i }), { qos: 1 })
        .then(
          () => {
            acked.push(time)
          },
          () => {},
        )
        .finally(() => pending.delete(p))
      pending.add(p)
      if (pending.size >= inFlight) await Promise.race([stopping, ...pending])
    }
  })()
  return {
    acked,
    published: () => published,
    reconnects: () => reconnects,
    stop() {
      running = false
      stopped()
      closing ??= loop.then(() => client.endAsync(true))
      return closing
    },
  }
}

/** Every time stored for the device's series in [base, last], read in windows the API answers raw. */
async function storedTimes(
  api: Api,
  base: number,
  last: number,
): Promise<{ times: Set<number>; raw: boolean }> {
  const times = new Set<number>()
  const series = (await api.seriesOf('device/disk01//')).find((s) => s.name === 'value')
  if (!series) return { times, raw: true }
  let raw = true
  // At most one value per ms: a 9,000 ms window holds at most 9,000, under the 10,000 points asked.
  for (let from = base - 1; from <= last; from += 9000) {
    const answer = await api.series(series.id, from, from + 9000, 10_000)
    if (answer.resolution !== 'raw') raw = false
    for (const point of answer.points) times.add(Math.round(point.time))
  }
  return { times, raw }
}

export type LateOutcome = 'acknowledged' | 'refused' | 'no answer'

/**
 * A device that connects while the disk is full and sends one QoS 1 value (time `time`): acknowledged,
 * refused (the connection closed without a PUBACK), or no answer within 3 s.
 */
async function lateDevice(url: string, time: number): Promise<LateOutcome> {
  const client = await mqtt
    .connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 })
    .catch(() => undefined)
  if (!client) return 'refused'
  const closed = new Promise<LateOutcome>((resolve) => client.once('close', () => resolve('refused')))
  const acked = client.publishAsync(TOPIC, JSON.stringify({ time: time / 1000, value: -1 }), { qos: 1 }).then(
    (): LateOutcome => 'acknowledged',
    (): LateOutcome => 'refused',
  )
  const outcome = await Promise.race([acked, closed, sleep(3000).then((): LateOutcome => 'no answer')])
  await client.endAsync(true)
  return outcome
}

function integrityCheck(dataDir: string): string {
  const db = new Database(path.join(dataDir, 'edgetwin.db'), { readonly: true, fileMustExist: true })
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

export async function diskFull(config: DiskConfig): Promise<DiskResult> {
  const volume = mountTmpfs(config.volumeMiB)
  try {
    const dataDir = path.join(volume.dir, 'data')
    mkdirSync(dataDir)
    const coreArgs = ['--min-free-disk', config.reserve]
    const core = await spawnCore(dataDir, { args: coreArgs })
    const api = new Api(core.ready)
    const base = Date.now() - 10 * 60_000
    const pub = await device(core.ready.mqtt, base, config.inFlight)
    try {
      await waitFor(
        'acknowledged values before the fill',
        () => pub.acked.length >= config.acks || undefined,
        30_000,
      )
      const stopHealth = watchHealth(core.ready, 100)
      const fillFile = fill(volume.dir)
      const { bavail, bsize } = statfsSync(volume.dir)
      const fullFrom = pub.acked.length
      const conditions = new Set<string>()
      let reason: string | null = null
      let statusMaxMs = 0
      let statusFailed = 0
      // One new device a second, below the first device's times: the first one's messages in flight wait.
      const late: Array<Promise<{ time: number; outcome: LateOutcome }>> = []
      const fullUntil = performance.now() + config.fullSeconds * 1000
      let nextLate = performance.now()
      while (performance.now() < fullUntil) {
        if (performance.now() >= nextLate) {
          const time = base - 1 - late.length
          late.push(lateDevice(core.ready.mqtt, time).then((outcome) => ({ time, outcome })))
          nextLate += 1000
        }
        const started = performance.now()
        try {
          const status = await api.get<StatusView>('/api/v1/status', ANSWER_TIMEOUT_MS)
          conditions.add(status.disk.condition)
          reason ??= status.disk.reason
        } catch {
          statusFailed++
        }
        statusMaxMs = Math.max(statusMaxMs, performance.now() - started)
        await sleep(250)
      }
      const fullTo = pub.acked.length
      const lateDone = await Promise.all(late)
      const lateAcked = lateDone.filter((l) => l.outcome === 'acknowledged').map((l) => l.time)
      rmSync(fillFile)
      const freedAt = performance.now()
      let resumeSeconds: number | undefined
      try {
        await waitFor(
          'ingest after the space came back',
          () => pub.acked.length >= fullTo + config.acks || undefined,
          30_000,
        )
        resumeSeconds = (performance.now() - freedAt) / 1000
      } catch {
        // never resumed: reported as such
      }
      const health = await stopHealth()
      await pub.stop()
      // A core that died or no longer answers is stopped and its data dir read by a new one, as the
      // report counted "not in the DB, live or after a restart".
      const died = core.process.exitCode ?? core.process.signalCode ?? undefined
      const status = await api.get<StatusView>('/api/v1/status', ANSWER_TIMEOUT_MS).catch(() => undefined)
      const exitCode = status ? undefined : await core.stop()
      const reader = status ? core : await spawnCore(dataDir, { args: coreArgs })
      const last = pub.acked.reduce((a, b) => Math.max(a, b), base)
      const { times, raw } = await storedTimes(new Api(reader.ready), base - late.length - 1, last)
      const missing = (list: number[]) => list.filter((t) => !times.has(t)).length
      const stopCode = await reader.stop()
      return {
        published: pub.published(),
        acked: pub.acked.length,
        ackedWhileFull: fullTo - fullFrom + lateAcked.length,
        lost: missing(pub.acked) + missing(lateAcked),
        lostWhileFull: missing(pub.acked.slice(fullFrom, fullTo)) + missing(lateAcked),
        late: {
          acknowledged: lateAcked.length,
          refused: lateDone.filter((l) => l.outcome === 'refused').length,
          unanswered: lateDone.filter((l) => l.outcome === 'no answer').length,
        },
        stored: times.size,
        freeAfterFill: bavail * bsize,
        conditions: [...conditions],
        reason,
        refused: status?.ingest.refused,
        reconnects: pub.reconnects(),
        health,
        statusMaxMs,
        statusFailed,
        resumeSeconds,
        rawWindows: raw,
        exitCode: exitCode ?? stopCode,
        died: died === undefined ? undefined : String(died),
        restarted: reader !== core,
        integrity: integrityCheck(dataDir),
      }
    } finally {
      await pub.stop().catch(() => {})
      await core.stop()
    }
  } finally {
    volume.unmount()
  }
}
