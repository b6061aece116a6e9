import { monitorEventLoopDelay } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { Api } from './api'
import { type FsyncSummary, fsyncTracer, summarizeFsync } from './fsync-trace'
import { sleep, spawnCore, tempDir, waitFor } from './processes'
import { benchEntity, connectPublishers, measurement, publishPaced, VALUES_PER_MESSAGE } from './publishers'

export interface LatencyConfig {
  publishers: number
  /** Messages per second over all publishers, the probe included. */
  rate: number
  seconds: number
  /** One probe message every this many ms. */
  probeEveryMs: number
  /** Pause between two polls of the API while a probe is outstanding. */
  pollEveryMs: number
}

export interface LatencyResult {
  probes: number
  seen: number
  p50: number
  p90: number
  p99: number
  max: number
  /** Values of the background load: published, and counted back through series queries. */
  backgroundSent: number
  backgroundStored: number
  achievedRate: number
  polls: number
  /** Event-loop delay of the bench process itself during the run, ms. */
  benchLoopDelayP99: number
  benchLoopDelayMax: number
  profileDir?: string
  /** fsync calls of the core over its whole life, when traced (profiling run only). */
  fsync?: FsyncSummary
}

const PROBE_ENTITY = 'device/bench-probe//'
const PROBE_TOPIC = `te/${PROBE_ENTITY}/m/probe`

/**
 * (d) Publish → queryable at a steady rate. Every message carries its send time as `time`. A probe
 * series gets one message every probeEveryMs whose value is its sequence number; the latency of a
 * probe is from just before its publish to the arrival of the first series query (raw samples, read
 * from SQLite) that contains it — an upper bound, by at most one poll period plus one round trip.
 */
export async function latency(config: LatencyConfig, profile = false): Promise<LatencyResult> {
  const wallStart = Date.now()
  const profileDir = profile ? tempDir('cpuprofile') : undefined
  // With the profile, also time every fsync of the core: SQLite's WAL checkpoints block its thread.
  const tracer = profileDir ? fsyncTracer(profileDir) : undefined
  const core = await spawnCore(tempDir('latency'), {
    nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    wrapper: tracer?.wrapper,
  })
  let result: LatencyResult | undefined
  try {
    const api = new Api(core.ready)
    const publishers = await connectPublishers(core.ready.mqtt, config.publishers, 'bench-pub')
    const probe = await mqtt.connectAsync(core.ready.mqtt, { clientId: 'bench-probe', reconnectPeriod: 0 })
    try {
      // First probe value registers the probe entity and creates its series.
      probe.publish(PROBE_TOPIC, JSON.stringify({ seq: -1, time: Date.now() / 1000 }))
      const probeSeries = await waitFor(
        'the probe series',
        async () => (await api.seriesOf(PROBE_ENTITY).catch(() => [])).find((s) => s.name === 'seq'),
        10_000,
        20,
      )
      const base = (await api.status()).ingest.values
      const sentAt = new Map<number, { wall: number; mono: number }>()
      const latencies: number[] = []
      let polls = 0
      let sending = true
      const poller = (async () => {
        const deadline = performance.now() + (config.seconds + 30) * 1000
        while ((sending || sentAt.size > 0) && performance.now() < deadline) {
          if (sentAt.size === 0) {
            await sleep(1)
            continue
          }
          let oldest = Number.POSITIVE_INFINITY
          for (const { wall } of sentAt.values()) oldest = Math.min(oldest, wall)
          const answer = await api.series(probeSeries.id, oldest - 1, Date.now() + 60_000, 10_000)
          const arrived = performance.now()
          polls++
          for (const point of answer.points) {
            const sent = sentAt.get(point.min)
            if (point.count === 1 && sent) {
              latencies.push(arrived - sent.mono)
              sentAt.delete(point.min)
            }
          }
          await sleep(config.pollEveryMs)
        }
      })()
      const probeRate = 1000 / config.probeEveryMs
      const perClient = (config.rate - probeRate) / config.publishers
      let seq = 0
      let lastWall = 0
      const prober = (async () => {
        const start = performance.now()
        const count = Math.round(config.seconds * probeRate)
        while (seq < count) {
          const due = Math.min(count, Math.floor((performance.now() - start) / config.probeEveryMs) + 1)
          for (; seq < due; seq++) {
            // Strictly increasing: two probes in one millisecond (catching up after a stall) must not
            // share a time, or the second would replace the first.
            const wall = Math.max(Date.now(), lastWall + 0.001)
            lastWall = wall
            sentAt.set(seq, { wall, mono: performance.now() })
            probe.publish(PROBE_TOPIC, `{"seq":${seq},"time":${(wall / 1000).toFixed(6)}}`)
          }
          await sleep(1)
        }
      })()
      // The bench's own event-loop delay bounds how much of a latency could be the load generator's.
      const loopDelay = monitorEventLoopDelay({ resolution: 5 })
      loopDelay.enable()
      const started = performance.now()
      const [backgroundSent] = await Promise.all([
        // Sub-millisecond offsets keep the send times of one publisher distinct: a second value at the
        // same instant would replace the first (samples' primary key) and the counts would not add up.
        publishPaced(publishers, perClient, config.seconds, (k, i) =>
          measurement(k * 1_000_003 + i, Date.now() + (i % 1000) / 1000),
        ),
        prober,
      ])
      const achievedRate = (backgroundSent + seq) / ((performance.now() - started) / 1000)
      sending = false
      await poller
      loopDelay.disable()
      const expected = base + seq + backgroundSent * VALUES_PER_MESSAGE
      await waitFor(
        'the latency load to be stored',
        async () => {
          const { ingest } = await api.status()
          return ingest.values >= expected && ingest.pendingWrites === 0 ? true : undefined
        },
        30_000,
      )
      let backgroundStored = 0
      for (let k = 0; k < config.publishers; k++) {
        for (const series of await api.seriesOf(benchEntity(k))) {
          backgroundStored += await api.storedCount(series.id, wallStart - 60_000, Date.now() + 60_000)
        }
      }
      latencies.sort((x, y) => x - y)
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? Number.NaN
      result = {
        probes: seq,
        seen: latencies.length,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: latencies[latencies.length - 1] ?? Number.NaN,
        backgroundSent: backgroundSent * VALUES_PER_MESSAGE,
        backgroundStored,
        achievedRate,
        polls,
        benchLoopDelayP99: loopDelay.percentile(99) / 1e6,
        benchLoopDelayMax: loopDelay.max / 1e6,
        profileDir,
      }
    } finally {
      await probe.endAsync(true)
      await publishers.close()
    }
  } finally {
    await core.stop()
  }
  if (tracer) result.fsync = summarizeFsync(tracer.file, core.pid)
  return result
}
