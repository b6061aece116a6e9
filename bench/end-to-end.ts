import { Api } from './api'
import type { ThroughputConfig } from './broker-alone'
import { cpuSecondsOf, spawnCore, tempDir, waitFor } from './processes'
import { benchEntity, connectPublishers, payloadPool, publishFlat, VALUES_PER_MESSAGE } from './publishers'

export interface EndToEndResult {
  sent: number
  /** Values the core's ingest counted (GET /api/v1/status). */
  ingested: number
  /** Values a series query returns for the bench devices after the run (sum of bucket counts). */
  stored: number
  expected: number
  rejected: number
  seconds: number
  valuesPerSecond: number
  publishSeconds: number
  /** Cores the core process and the bench process kept busy while timed. */
  serverCores: number
  benchCores: number
  /** Exit code of the core after SIGTERM (0 = clean stop). */
  exitCode: number | null
  /** Where the core's CPU profile went, when one was asked for. */
  profileDir?: string
}

/**
 * (c) The same publishers into the embedded broker of `edgetwin serve` (a child process), timed from
 * the first publish until the API reports every value ingested and nothing left to write — at which
 * point a series query returns them (checked afterwards by counting through the API).
 */
export async function endToEnd(
  config: ThroughputConfig,
  { profile = false, verify = true }: { profile?: boolean; verify?: boolean } = {},
): Promise<EndToEndResult> {
  const dataDir = tempDir('e2e')
  const profileDir = profile ? tempDir('cpuprofile') : undefined
  const wallStart = Date.now()
  let result: EndToEndResult | undefined
  const core = await spawnCore(dataDir, {
    nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  })
  try {
    const api = new Api(core.ready)
    const publishers = await connectPublishers(core.ready.mqtt, config.publishers, 'bench-pub')
    try {
      const pools = publishers.clients.map((_, k) => payloadPool(k))
      const base = (await api.status()).ingest
      let expected = base.values
      const allStored = async (timeoutMs: number) =>
        waitFor(
          `${expected} values stored`,
          async () => {
            const { ingest } = await api.status()
            return ingest.values >= expected && ingest.pendingWrites === 0 ? performance.now() : undefined
          },
          timeoutMs,
          20,
        )
      // Warm-up: auto-registers the bench devices and their series, and lets the JIT settle.
      expected += config.warmupPerPublisher * config.publishers * VALUES_PER_MESSAGE
      await publishFlat(publishers, config.warmupPerPublisher, pools)
      await allStored(60_000)
      expected += config.messagesPerPublisher * config.publishers * VALUES_PER_MESSAGE
      const serverCpu = cpuSecondsOf(core.pid)
      const benchCpu = process.cpuUsage()
      const burst = await publishFlat(publishers, config.messagesPerPublisher, pools)
      const doneAt = await allStored(180_000)
      const seconds = (doneAt - burst.firstAt) / 1000
      const serverCores = (cpuSecondsOf(core.pid) - serverCpu) / seconds
      const bench = process.cpuUsage(benchCpu)
      const { ingest } = await api.status()
      let stored = Number.NaN
      // Counting reads every stored value back; skipped when profiling so the profile shows ingest only.
      if (verify) stored = 0
      for (let k = 0; verify && k < config.publishers; k++) {
        for (const series of await api.seriesOf(benchEntity(k))) {
          stored += await api.storedCount(series.id, wallStart - 60_000, Date.now() + 60_000)
        }
      }
      const measured = burst.sent * VALUES_PER_MESSAGE
      result = {
        sent:
          (config.messagesPerPublisher + config.warmupPerPublisher) * config.publishers * VALUES_PER_MESSAGE,
        ingested: ingest.values - base.values,
        stored,
        expected: expected - base.values,
        rejected: ingest.rejected - base.rejected,
        seconds,
        valuesPerSecond: measured / seconds,
        publishSeconds: (burst.lastAt - burst.firstAt) / 1000,
        serverCores,
        benchCores: (bench.user + bench.system) / 1e6 / seconds,
        exitCode: null,
        profileDir,
      }
    } finally {
      await publishers.close()
    }
  } finally {
    const code = await core.stop()
    if (result) result.exitCode = code
  }
  return result
}
