// `npm run bench`: every EdgeTwin benchmark in one run, side by side on this machine; prints a table
// and rewrites docs/benchmarks.md. See that file's Method section for what each phase does.
// `npx tsx bench/run.ts --only l` (after `npm run build`) runs some phases (ids as in the table, comma
// separated) and prints their rows only; docs/benchmarks.md is then left as it is.

import { parseArgs } from 'node:util'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../test/helpers/chromium'
import { ABUSE_IDS, abusePhases } from './abuse'
import { brokerAlone, type ThroughputConfig } from './broker-alone'
import { endToEnd } from './end-to-end'
import { type FootprintConfig, footprint } from './footprint'
import type { FsyncSummary } from './fsync-trace'
import { type LatencyConfig, latency } from './latency'
import { describeMachine, waitForQuiet, withForeignLoad } from './machine'
import { cleanupAll } from './processes'
import { summarizeProfile } from './profile'
import { VALUES_PER_MESSAGE } from './publishers'
import { historyQuery, type QueryConfig } from './query'
import { freshDir, timeToReady } from './ready'
import {
  type BenchResults,
  consoleReport,
  type Phase,
  type ProfileRun,
  sanityProblems,
  TARGETS,
  writeMarkdown,
} from './report'
import { sqliteRaw } from './sqlite-raw'
import { type SyncBenchConfig, syncDrain } from './sync'
import { firstLoad } from './ui-first-load'
import { liveSeries } from './ui-live-series'
import type { UiConfig } from './ui-report'
import { treeFilter } from './ui-tree-filter'

const throughput: ThroughputConfig = {
  publishers: 4,
  messagesPerPublisher: 100_000,
  warmupPerPublisher: 5_000,
}
const latencyConfig: LatencyConfig = {
  publishers: 4,
  rate: 5_000,
  seconds: 10,
  probeEveryMs: 20,
  pollEveryMs: 10,
}
const queryConfig: QueryConfig = { days: 30, periodMs: 1_000, points: 1_000, runs: 20, warmup: 5 }
const footprintConfig: FootprintConfig = {
  entities: 1_000,
  measurementsPerEntity: 3,
  valuesPerMeasurement: 5,
  clients: 4,
  settleMs: 5_000,
}
const READY_RUNS = 5
const uiConfig: UiConfig = {
  firstLoad: { runs: 5 },
  live: { series: 50, hz: 1, seconds: 20, historySeconds: 300 },
  tree: { entities: 1_000, cells: 25, filter: 'sensor', rounds: 3, clients: 4 },
}
const syncConfig: SyncBenchConfig = {
  values: 1_000_000,
  devices: 50,
  periodMs: 1000,
  clients: 5,
  site: 'bench-site',
}
/** Longest wait for other processes on a shared machine to calm down before a sensitive phase. */
const QUIET_WAIT_MS = 20_000
/** The whole bench is abandoned (children killed, dirs removed) after this long: about twice a run. */
const WATCHDOG_MS = 15 * 60_000

function log(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`)
}

/** Phase ids of `--only`; undefined = all. A phase giving several rows goes by any of them ("h, i"). */
const only = (() => {
  const { values } = parseArgs({ options: { only: { type: 'string' } } })
  return values.only?.split(',').map((id) => id.trim())
})()

async function phase<T>(
  id: string,
  name: string,
  work: () => Promise<T>,
  quietWaitMs = 0,
): Promise<Phase<T>> {
  if (only && !id.split(', ').some((one) => only.includes(one))) return { skipped: true }
  const label = `(${id}) ${name}`
  if (quietWaitMs > 0) {
    const load = await waitForQuiet(quietWaitMs)
    if (load >= 0.3) log(`other processes keep ${load.toFixed(2)} cores busy; measuring ${label} anyway`)
  }
  log(`${label}…`)
  try {
    const { value, foreignCores } = await withForeignLoad(work)
    return { value, foreignCores }
  } catch (error) {
    log(`${label} failed: ${(error as Error).stack ?? error}`)
    return { error: (error as Error).message }
  }
}

async function profiled(
  of: string,
  reason: string,
  run: () => Promise<{ profileDir?: string; fsync?: FsyncSummary }>,
): Promise<ProfileRun> {
  log(`profiling the core during ${of} (${reason})…`)
  try {
    const { profileDir, fsync } = await run()
    if (!profileDir) throw new Error('no profile directory')
    return { of, reason, summary: summarizeProfile(profileDir), fsync }
  } catch (error) {
    return { of, reason, error: (error as Error).message }
  }
}

async function main(): Promise<number> {
  const began = performance.now()
  const machine = describeMachine()
  log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memory}, Node.js ${machine.node}, SQLite ${machine.sqlite}`,
  )

  const timedValues = throughput.publishers * throughput.messagesPerPublisher * VALUES_PER_MESSAGE
  const a = await phase('a', 'broker alone', () => brokerAlone(throughput), QUIET_WAIT_MS)
  const b = await phase(
    'b',
    'raw better-sqlite3',
    async () => sqliteRaw(timedValues, throughput.publishers * VALUES_PER_MESSAGE),
    QUIET_WAIT_MS,
  )
  const c = await phase('c', 'EdgeTwin end to end', () => endToEnd(throughput), QUIET_WAIT_MS)
  const d = await phase('d', 'latency', () => latency(latencyConfig), QUIET_WAIT_MS)
  const e = await phase('e', '30-day query', () => historyQuery(queryConfig), QUIET_WAIT_MS / 4)
  const f = await phase('f', 'resident memory', () => footprint(footprintConfig))
  const g = await phase(
    'g',
    'time to ready',
    async () => {
      const fresh = await timeToReady(freshDir, READY_RUNS, true)
      // "Existing" is the data dir of (f) with its entities; without it, one made by a first start.
      let existingDir = f.value?.dataDir
      let existingLabel = `${footprintConfig.entities.toLocaleString('en-US')} entities`
      if (!existingDir) {
        const dir = freshDir()
        await timeToReady(() => dir, 1)
        existingDir = dir
        existingLabel = 'after one start'
      }
      const existingFinal = existingDir
      const existing = await timeToReady(() => existingFinal, READY_RUNS)
      const historyDir = e.value?.dataDir
      const history = historyDir ? await timeToReady(() => historyDir, 3) : undefined
      return { fresh, existing, existingLabel, history }
    },
    QUIET_WAIT_MS / 4,
  )

  // One Chromium for the UI phases, closed after the last: a browser that exits inside a phase leaves
  // its helper processes to init, and their CPU time would show as other load.
  let chromium: Browser | undefined
  const browser = async () => {
    chromium ??= await launchChromium()
    return chromium
  }
  const h = await phase(
    'h, i',
    'UI first load',
    async () => firstLoad(await browser(), uiConfig.firstLoad),
    QUIET_WAIT_MS / 4,
  )
  const j = await phase(
    'j',
    'UI live series',
    async () => liveSeries(await browser(), uiConfig.live),
    QUIET_WAIT_MS / 4,
  )
  const k = await phase(
    'k',
    'UI tree filter',
    async () => treeFilter(await browser(), uiConfig.tree),
    QUIET_WAIT_MS / 4,
  )
  await chromium?.close()
  const l = await phase(
    'l, m',
    'cloud sync drain and bandwidth',
    () => syncDrain(syncConfig),
    QUIET_WAIT_MS / 4,
  )
  const abuse = await abusePhases(phase, QUIET_WAIT_MS / 4)

  const profiles: ProfileRun[] = []
  const cValue = c.value
  const ratio = cValue && a.value ? cValue.valuesPerSecond / a.value.valuesPerSecond : undefined
  if (
    cValue &&
    (cValue.valuesPerSecond < TARGETS.throughput || (ratio !== undefined && ratio < TARGETS.ratio))
  ) {
    const reason =
      cValue.valuesPerSecond < TARGETS.throughput
        ? `c = ${Math.round(cValue.valuesPerSecond)} values/s < ${TARGETS.throughput}`
        : `c/a = ${ratio?.toFixed(2)} < ${TARGETS.ratio}`
    const shorter = { ...throughput, messagesPerPublisher: throughput.messagesPerPublisher / 2 }
    profiles.push(
      await profiled('the end-to-end run (c)', reason, () =>
        endToEnd(shorter, { profile: true, verify: false }),
      ),
    )
  }
  if (d.value && d.value.p99 > TARGETS.p99Ms) {
    profiles.push(
      await profiled('the latency run (d)', `p99 ${d.value.p99.toFixed(0)} ms > ${TARGETS.p99Ms} ms`, () =>
        latency(latencyConfig, true),
      ),
    )
  }

  const results: BenchResults = {
    machine,
    throughput,
    latencyConfig,
    queryConfig,
    footprintConfig,
    readyRuns: READY_RUNS,
    a,
    b,
    c,
    d,
    e,
    f,
    g,
    ui: uiConfig,
    h,
    j,
    k,
    sync: syncConfig,
    l,
    ...abuse,
    profiles,
    seconds: (performance.now() - began) / 1000,
    only,
  }
  if (!only) writeMarkdown(results)
  process.stdout.write(`\n${consoleReport(results)}\n`)
  // Targets missed are results; a phase that could not run or counts that disagree are failures.
  const broken =
    [a, b, c, d, e, f, g, h, j, k, l, ...ABUSE_IDS.map((id) => abuse[id])].some(
      (p) => p.error !== undefined,
    ) || sanityProblems(results).length > 0
  return broken ? 1 : 0
}

const watchdog = setTimeout(() => {
  log(`still running after ${WATCHDOG_MS / 60_000} min; giving up`)
  cleanupAll()
  process.exit(2)
}, WATCHDOG_MS)
watchdog.unref()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`)
    cleanupAll()
    process.exit(130)
  })
}

process.on('exit', cleanupAll)

let code = 1
try {
  code = await main()
} catch (error) {
  log(`bench failed: ${(error as Error).stack ?? error}`)
} finally {
  cleanupAll()
  clearTimeout(watchdog)
}
// Exit explicitly: an HTTP keep-alive socket must not hold the process for seconds after the report.
process.exit(code)
