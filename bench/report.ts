import { renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { AbusePhases } from './abuse'
import { abuseConsoleLines, abuseMarkdown, abuseSanityProblems } from './abuse-report'
import type { BrokerAloneResult, ThroughputConfig } from './broker-alone'
import type { EndToEndResult } from './end-to-end'
import type { FootprintConfig, FootprintResult } from './footprint'
import type { FsyncSummary } from './fsync-trace'
import type { LatencyConfig, LatencyResult } from './latency'
import type { Machine } from './machine'
import { ROOT } from './processes'
import type { ProfileSummary } from './profile'
import { VALUES_PER_MESSAGE } from './publishers'
import type { QueryConfig, QueryResult } from './query'
import type { ReadyTiming } from './ready'
import type { SqliteRawResult } from './sqlite-raw'
import { type SyncPhases, syncDetails, syncMethod, syncRows, syncSanityProblems } from './sync-report'
import { type UiConfig, type UiPhases, uiDetails, uiMethod, uiRows, uiSanityProblems } from './ui-report'

/** A measured phase: its value, or why it could not be measured, and the other load on the machine. */
export interface Phase<T> {
  value?: T
  error?: string
  /** Cores kept busy by processes other than the bench while the phase ran. */
  foreignCores?: number
  /** Left out of this run (`--only`): no row, no error. */
  skipped?: boolean
}

export interface ProfileRun {
  of: string
  reason: string
  summary?: ProfileSummary
  fsync?: FsyncSummary
  error?: string
}

export interface BenchResults extends UiPhases, SyncPhases, AbusePhases {
  machine: Machine
  throughput: ThroughputConfig
  latencyConfig: LatencyConfig
  queryConfig: QueryConfig
  footprintConfig: FootprintConfig
  readyRuns: number
  a: Phase<BrokerAloneResult>
  b: Phase<SqliteRawResult>
  c: Phase<EndToEndResult>
  d: Phase<LatencyResult>
  e: Phase<QueryResult>
  f: Phase<FootprintResult>
  g: Phase<{ fresh: ReadyTiming; existing: ReadyTiming; existingLabel: string; history?: ReadyTiming }>
  ui: UiConfig
  profiles: ProfileRun[]
  seconds: number
  /** The phases run when not all were (`--only`); the report then is not written to docs/. */
  only?: string[]
}

export const TARGETS = {
  throughput: 100_000,
  ratio: 0.7,
  p99Ms: 100,
  queryMs: 50,
  rssBytes: 150e6,
  readyMs: 1500,
}

export type Status = 'PASS' | 'FAIL' | 'ERROR' | '—'

export interface Row {
  id: string
  measure: string
  result: string
  target: string
  status: Status
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const check = (ok: boolean): Status => (ok ? 'PASS' : 'FAIL')

/** Counts that must agree for any figure of the bench to mean anything. */
export function sanityProblems(r: BenchResults): string[] {
  return [...resultsSanityProblems(r), ...abuseSanityProblems(r)]
}

/** Counts that must agree for a figure of the Results table to mean anything. */
function resultsSanityProblems(r: BenchResults): string[] {
  const problems: string[] = []
  const a = r.a.value
  if (a && a.received !== a.sent) problems.push(`(a) ${a.sent} messages sent, ${a.received} received`)
  const c = r.c.value
  if (c) {
    if (!(c.sent === c.ingested && c.ingested === c.stored && c.stored === c.expected)) {
      problems.push(
        `(c) values sent ${c.sent}, ingested ${c.ingested}, stored ${c.stored}, expected ${c.expected}`,
      )
    }
    if (c.rejected > 0) problems.push(`(c) ${c.rejected} messages rejected by the core`)
    if (c.exitCode !== 0) problems.push(`(c) the core exited with ${c.exitCode} on SIGTERM`)
  }
  const d = r.d.value
  if (d) {
    if (d.seen !== d.probes) problems.push(`(d) ${d.probes} probes sent, ${d.seen} seen queryable`)
    if (d.backgroundStored !== d.backgroundSent) {
      problems.push(`(d) background values sent ${d.backgroundSent}, stored ${d.backgroundStored}`)
    }
  }
  const e = r.e.value
  if (e) {
    if (e.coveredSamples !== e.samples)
      problems.push(`(e) the answer covers ${e.coveredSamples} of ${e.samples} samples`)
    if (e.returnedPoints > r.queryConfig.points) problems.push(`(e) ${e.returnedPoints} points returned`)
  }
  const f = r.f.value
  if (f && f.entities !== r.footprintConfig.entities) problems.push(`(f) ${f.entities} entities registered`)
  const g = r.g.value
  if (g) {
    const bad = [...g.fresh.badExits, ...g.existing.badExits, ...(g.history?.badExits ?? [])]
    if (bad.length > 0) problems.push(`(g) exit codes after SIGTERM: ${bad.join(', ')}`)
  }
  return [...problems, ...uiSanityProblems(r.ui, r), ...syncSanityProblems(r)]
}

function rows(r: BenchResults): Row[] {
  const out: Row[] = []
  const failed = (id: string, measure: string, target: string, phase: Phase<unknown>) => {
    if (!phase.skipped)
      out.push({ id, measure, result: `error: ${phase.error ?? 'not run'}`, target, status: 'ERROR' })
  }
  const { a, b, c, d, e, f, g } = r

  if (a.value) {
    const v = a.value
    out.push({
      id: 'a',
      measure: 'Broker alone (plain aedes, child process), values/s',
      result: `${int(v.valuesPerSecond)} (${int(v.valuesPerSecond / VALUES_PER_MESSAGE)} msg/s)`,
      target: 'baseline',
      status: '—',
    })
  } else failed('a', 'Broker alone, values/s', 'baseline', a)

  if (b.value) {
    out.push({
      id: 'b',
      measure: 'Raw better-sqlite3 inserts (5,000/txn, WAL, NORMAL), values/s',
      result: int(b.value.valuesPerSecond),
      target: 'store limit',
      status: '—',
    })
  } else failed('b', 'Raw better-sqlite3 inserts, values/s', 'store limit', b)

  if (c.value) {
    out.push({
      id: 'c',
      measure: 'EdgeTwin end to end (publish → queryable), values/s',
      result: int(c.value.valuesPerSecond),
      target: `≥ ${int(TARGETS.throughput)}`,
      status: check(c.value.valuesPerSecond >= TARGETS.throughput),
    })
    if (a.value) {
      const ratio = c.value.valuesPerSecond / a.value.valuesPerSecond
      out.push({
        id: 'c/a',
        measure: 'End to end ÷ broker alone',
        result: ratio.toFixed(2),
        target: `≥ ${TARGETS.ratio}`,
        status: check(ratio >= TARGETS.ratio),
      })
    }
    if (b.value) {
      out.push({
        id: 'c/b',
        measure: 'End to end ÷ raw SQLite',
        result: (c.value.valuesPerSecond / b.value.valuesPerSecond).toFixed(2),
        target: '—',
        status: '—',
      })
    }
  } else failed('c', 'EdgeTwin end to end, values/s', `≥ ${int(TARGETS.throughput)}`, c)
  if (d.value) {
    out.push({
      id: 'd',
      measure: `Latency publish → queryable at ${int(r.latencyConfig.rate)} msg/s, p50 / p99`,
      result: `${ms(d.value.p50)} / ${ms(d.value.p99)}`,
      target: `p99 ≤ ${TARGETS.p99Ms} ms`,
      status: check(d.value.p99 <= TARGETS.p99Ms),
    })
  } else failed('d', 'Latency p50 / p99', `p99 ≤ ${TARGETS.p99Ms} ms`, d)

  if (e.value) {
    out.push({
      id: 'e',
      measure: `${r.queryConfig.days}-day 1 Hz series as ${int(r.queryConfig.points)} points, HTTP median (in-process)`,
      result: `${ms(e.value.http.median)} (${ms(e.value.inProcess.median)})`,
      target: `≤ ${TARGETS.queryMs} ms`,
      status: check(e.value.http.median <= TARGETS.queryMs),
    })
  } else failed('e', '30-day query', `≤ ${TARGETS.queryMs} ms`, e)

  if (f.value) {
    out.push({
      id: 'f',
      measure: `Resident memory with ${int(r.footprintConfig.entities)} entities (idle at start)`,
      result: `${mb(f.value.rss)} (${mb(f.value.idleRss)})`,
      target: `≤ ${mb(TARGETS.rssBytes)}`,
      status: check(f.value.rss <= TARGETS.rssBytes),
    })
  } else failed('f', 'Resident memory', `≤ ${mb(TARGETS.rssBytes)}`, f)

  if (g.value) {
    const { fresh, existing } = g.value
    out.push({
      id: 'g',
      measure: `Time to ready, median of ${r.readyRuns}: fresh / existing data dir`,
      result: `${ms(fresh.median)} / ${ms(existing.median)}`,
      target: `≤ ${TARGETS.readyMs} ms`,
      status: check(fresh.median <= TARGETS.readyMs && existing.median <= TARGETS.readyMs),
    })
  } else failed('g', 'Time to ready', `≤ ${TARGETS.readyMs} ms`, g)
  return [...out, ...uiRows(r.ui, r), ...syncRows(r)]
}

/** Phases measured while other processes kept more than this many cores busy. */
const BUSY = 0.3
const DAY_MS = 86_400_000

function busyPhases(r: BenchResults): string[] {
  const phases = {
    ...{ a: r.a, b: r.b, c: r.c, d: r.d, e: r.e, f: r.f, g: r.g, h: r.h, j: r.j, k: r.k, l: r.l },
    ...{ n1: r.n1, n2: r.n2, n3: r.n3, n4: r.n4, n5: r.n5, n6: r.n6, n7: r.n7, n8: r.n8, n9: r.n9 },
  }
  return Object.entries(phases).flatMap(([id, p]) =>
    p.foreignCores !== undefined && p.foreignCores > BUSY ? [`${id} (${p.foreignCores.toFixed(2)})`] : [],
  )
}

function busyWarning(r: BenchResults): string | undefined {
  const busy = busyPhases(r)
  if (busy.length === 0) return undefined
  return `Other processes kept more than ${BUSY} of ${r.machine.cores} cores busy during ${busy.join(', ')} (cores): those figures are pessimistic and vary run to run.`
}

export function consoleReport(r: BenchResults): string {
  const table = rows(r)
  const head: Row = { id: '', measure: 'Measure', result: 'Result', target: 'Target', status: '—' }
  const width = (key: keyof Row) => Math.max(...[head, ...table].map((row) => row[key].length))
  const line = (row: Row, status: string) =>
    `${row.id.padEnd(width('id'))}  ${row.measure.padEnd(width('measure'))}  ${row.result.padEnd(width('result'))}  ${row.target.padEnd(width('target'))}  ${status}`
  // With `--only` for the abuse group alone, the Results table has no rows to show.
  const results = table.length ? [line(head, 'Status'), ...table.map((row) => line(row, row.status))] : []
  const lines = [...results, ...abuseConsoleLines(r)]
  const problems = sanityProblems(r)
  lines.push(
    '',
    problems.length
      ? `SANITY CHECKS FAILED:\n  ${problems.join('\n  ')}`
      : 'Sanity checks: all counts agree.',
  )
  const warning = busyWarning(r)
  if (warning) lines.push(`WARNING: ${warning}`)
  for (const profile of r.profiles)
    lines.push('', ...profileLines(profile, 10).map((l) => l.replace(/`/g, '')))
  lines.push(
    '',
    r.only
      ? `Phases ${r.only.join(', ')} only: ${r.seconds.toFixed(0)} s. docs/benchmarks.md left as it was.`
      : `Whole bench: ${r.seconds.toFixed(0)} s. Written to docs/benchmarks.md.`,
  )
  return lines.join('\n')
}

function profileLines(p: ProfileRun, top: number): string[] {
  if (!p.summary) return [`CPU profile of the core during ${p.of}: ${p.error ?? 'not taken'}`]
  const s = p.summary
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`
  return [
    `CPU profile of the core during ${p.of} (${p.reason}): busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled.`,
    '',
    'Self time by area:',
    '',
    '| Area | Self time | Share of busy |',
    '|---|---:|---:|',
    ...s.areas.slice(0, 8).map((e) => `| ${e.name} | ${int(e.ms)} ms | ${pct(e.share)} |`),
    '',
    `Top ${top} functions by self time:`,
    '',
    '| Function | Where | Self time | Share of busy |',
    '|---|---|---:|---:|',
    ...s.functions
      .slice(0, top)
      .map((e) => `| \`${e.name}\` | ${e.where} | ${int(e.ms)} ms | ${pct(e.share)} |`),
    ...(p.fsync
      ? [
          '',
          `fsync/fdatasync of the core over the same run (strace): ${p.fsync.calls} calls, ${p.fsync.mainThreadCalls}`,
          `of them on the main thread, blocking it ${int(p.fsync.mainThreadMs)} ms in total; longest ${ms(p.fsync.maxMs)},`,
          `${p.fsync.over10ms} over 10 ms.`,
        ]
      : []),
  ]
}

function load(phase: Phase<unknown>): string {
  return phase.foreignCores === undefined ? '?' : phase.foreignCores.toFixed(2)
}

export function markdownReport(r: BenchResults): string {
  const m = r.machine
  const t = r.throughput
  const table = rows(r)
  const problems = resultsSanityProblems(r)
  const { a, b, c, d, e, f, g } = r
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts) on every run; the numbers below are from the last run and',
    'from the machine it ran on. Nothing here is edited by hand.',
    '',
    '## Machine',
    '',
    `- Date: ${m.date}`,
    `- CPU: ${m.cpu}, ${m.cores} cores; memory ${m.memory}`,
    `- OS: ${m.os}`,
    `- Node.js ${m.node}; SQLite ${m.sqlite}; ${m.packages}`,
    `- Data dirs and SQLite files: ${m.tmpFs}`,
    `- Code: ${m.commit}`,
    '',
    '## Results',
    '',
    '| | Measure | Result | Target | Status |',
    '|---|---|---|---|---|',
    ...table.map(
      (row) =>
        `| ${row.id} | ${row.measure} | ${row.result} | ${row.target} | ${row.status === '—' ? '—' : `**${row.status}**`} |`,
    ),
    '',
    problems.length
      ? `**Sanity checks failed**, the figures above are suspect:\n\n${problems.map((p) => `- ${p}`).join('\n')}`
      : "Sanity checks: every count agrees (sent = received for (a); sent = ingested = stored for (c) and the latency load; every probe seen; the 30-day answer covers every sample; the UI showed every live series changing and the expected filter matches; every queued sync value acknowledged and received, none dropped; the baseline's bytes match its packet sizes).",
    ...(busyWarning(r) ? ['', `**Warning:** ${busyWarning(r)}`] : []),
    '',
    '### Details',
    '',
    '| Phase | Detail | Other load (cores) |',
    '|---|---|---:|',
  ]
  if (a.value) {
    const v = a.value
    out.push(
      `| a | ${int(v.sent)} messages sent, ${int(v.received)} received in ${v.seconds.toFixed(2)} s; publishers done after ${v.publishSeconds.toFixed(2)} s; broker process ${v.serverCores.toFixed(2)} cores, bench process ${v.benchCores.toFixed(2)} cores | ${load(a)} |`,
    )
  }
  if (b.value) out.push(`| b | ${int(b.value.rows)} rows in ${b.value.seconds.toFixed(2)} s | ${load(b)} |`)
  if (c.value) {
    const v = c.value
    out.push(
      `| c | ${int(v.expected)} values expected (warm-up included), ${int(v.ingested)} ingested, ${int(v.stored)} counted back through the API, ${v.rejected} rejected; timed part ${v.seconds.toFixed(2)} s, publishers done after ${v.publishSeconds.toFixed(2)} s; core process ${v.serverCores.toFixed(2)} cores, bench process ${v.benchCores.toFixed(2)} cores | ${load(c)} |`,
    )
  }
  if (d.value) {
    const v = d.value
    out.push(
      `| d | ${v.seen} of ${v.probes} probes seen; p50 ${ms(v.p50)}, p90 ${ms(v.p90)}, p99 ${ms(v.p99)}, max ${ms(v.max)}; achieved ${int(v.achievedRate)} msg/s; ${int(v.backgroundSent)} background values sent, ${int(v.backgroundStored)} stored; ${v.polls} polls; bench event-loop delay p99 ${ms(v.benchLoopDelayP99)}, max ${ms(v.benchLoopDelayMax)} | ${load(d)} |`,
    )
  }
  if (e.value) {
    const v = e.value
    out.push(
      `| e | ${int(v.samples)} samples written through SeriesStore in ${v.generateSeconds.toFixed(1)} s; answer: ${v.resolution} resolution, ${v.returnedPoints} points covering ${int(v.coveredSamples)} samples; HTTP median ${ms(v.http.median)}, p90 ${ms(v.http.p90)}, max ${ms(v.http.max)}; in-process median ${ms(v.inProcess.median)}, max ${ms(v.inProcess.max)} | ${load(e)} |`,
    )
  }
  if (f.value) {
    const v = f.value
    out.push(
      `| f | ${int(v.entities)} entities, ${int(v.values)} values; RSS idle ${mb(v.idleRss)}, after settling ${mb(v.rss)}, peak ${mb(v.peak)} | ${load(f)} |`,
    )
  }
  if (g.value) {
    const v = g.value
    const list = (x: ReadyTiming) => x.runs.map((n) => n.toFixed(0)).join(', ')
    out.push(
      `| g | fresh: ${list(v.fresh)} ms; existing (${v.existingLabel}): ${list(v.existing)} ms${v.history ? `; existing (${r.queryConfig.days} days of history): ${list(v.history)} ms` : ''} | ${load(g)} |`,
    )
  }
  const uiLoad: Record<string, Phase<unknown>> = { 'h, i': r.h, j: r.j, k: r.k }
  for (const row of uiDetails(r.ui, r))
    out.push(`| ${row.id} | ${row.text} | ${load(uiLoad[row.id] ?? {})} |`)
  for (const row of syncDetails(r)) out.push(`| ${row.id} | ${row.text} | ${load(r.l)} |`)
  out.push(
    '',
    '"Other load" is how many cores processes outside the bench kept busy during the phase (from',
    '/proc/stat minus the bench and every process below it). The machine may be shared; figures taken with',
    'other load above ~0.3 cores are pessimistic, not comparable run to run.',
    '',
    '## Method',
    '',
    `- **Publishers** (a, c): ${t.publishers} mqtt.js clients in the bench process, QoS 0, each publishing to`,
    `  \`te/device/bench-<k>///m/env\` a thin-edge.io measurement of ${VALUES_PER_MESSAGE} numeric values`,
    '  (`{"a":12.34,…,"j":…}`, no `time`: the core stamps receive times). Payloads are pre-built (1,024',
    '  per client, cycled); each client writes bursts of 256 and waits for the last publish callback',
    `  (socket drain), so TCP backpressure paces it. ${int(t.warmupPerPublisher)} messages per client are sent and`,
    `  fully delivered first (JIT, auto-registration); then ${int(t.messagesPerPublisher)} per client`,
    `  (${int(t.messagesPerPublisher * t.publishers)} messages, ${int(t.messagesPerPublisher * t.publishers * VALUES_PER_MESSAGE)} values) are timed.`,
    '  The publishers finish long before the server does (see "publishers done after"), so they are',
    '  not the bottleneck.',
    '- **(a) Broker alone**: a plain aedes (default memory persistence, no hooks) in a child process',
    '  (bench/broker-child.ts), one `te/#` subscriber in the bench process that discards messages;',
    '  values/s = values received ÷ (last receive − first publish).',
    '- **(b) Raw SQLite**: better-sqlite3 in the bench process inserting the same values as one row',
    '  each (series_id, time, value), 40 interleaved series, into a WITHOUT ROWID table with PRIMARY',
    '  KEY (series_id, time) in transactions of 5,000, WAL, synchronous=NORMAL, in a temp file. No',
    '  rollups, no JSON: the limit of a store that writes a row per value on this machine. EdgeTwin',
    '  writes one row per series and batch instead (src-main/core/telemetry/sample-chunk.ts), which is',
    '  why c can exceed b.',
    '- **(c) End to end**: `edgetwin serve --no-sim` as a child process (fresh data dir, ephemeral',
    '  ports), the same publishers into its embedded broker; timed from the first publish until',
    '  `GET /api/v1/status` shows every value ingested and nothing pending in the writer (polled every',
    '  20 ms). Afterwards every bench series is read back with `GET /api/v1/series/:id` and the bucket',
    '  counts summed: that is the "stored" figure.',
    `- **(d) Latency**: a fresh core; ${t.publishers} publishers at a steady ${int(r.latencyConfig.rate)} msg/s in total for`,
    `  ${r.latencyConfig.seconds} s, each message carrying its send time as \`time\`. A probe client publishes`,
    `  \`{"seq":n,"time":…}\` every ${r.latencyConfig.probeEveryMs} ms to its own series; the bench polls`,
    `  \`GET /api/v1/series/<probe>\` (raw samples, read from SQLite) every ${r.latencyConfig.pollEveryMs} ms while a probe is`,
    "  outstanding. A probe's latency runs from just before its publish to the arrival of the first",
    '  answer containing it: an upper bound, by at most one poll period plus one HTTP round trip.',
    `- **(e) Query**: ${r.queryConfig.days} × ${int(DAY_MS / r.queryConfig.periodMs)} samples of one series written through the core's own`,
    '  `SeriesStore` and `BatchWriter` (samples + minute/hour rollups, exactly as ingest writes them)',
    `  in a core started inside the bench with no traffic. Then \`edgetwin serve\` on that data dir and`,
    `  \`GET /api/v1/series/<id>?from=<${r.queryConfig.days} d ago>&to=<now>&points=${r.queryConfig.points}\` timed over HTTP (${r.queryConfig.warmup} warm-up`,
    `  requests, then median of ${r.queryConfig.runs}); then the same \`SeriesStore.query()\` timed in a core reopened on that`,
    "  data dir inside the bench (same warm-up and count), to tell the store's share from HTTP and JSON.",
    `- **(f) Memory**: a fresh core; ${int(r.footprintConfig.entities)} child devices registered over MQTT the thin-edge.io way`,
    '  (retained `te/device/fp-NNNN//` `{"@type":"child-device",…}`, QoS 1), each then sending',
    `  ${r.footprintConfig.measurementsPerEntity} measurements of ${r.footprintConfig.valuesPerMeasurement} values; once everything is stored, one \`GET /api/v1/entities\``,
    `  (the UI's first screen), then ${(r.footprintConfig.settleMs / 1000).toFixed(0)} s to settle; VmRSS of the core process from`,
    '  /proc/<pid>/status. MB = 10^6 bytes.',
    `- **(g) Ready**: spawn of \`node bin/edgetwin.js serve … --ready-file F\` until F exists, median of`,
    `  ${r.readyRuns}; "fresh" uses a new empty data dir each time, "existing" the data dir of (f) with`,
    `  ${int(r.footprintConfig.entities)} entities (also shown: the ${r.queryConfig.days}-day history dir of (e)). Includes Node.js start-up.`,
    ...uiMethod(r.ui),
    ...syncMethod(r),
    '',
    'Each server runs in its own process so the load generator never shares its event loop. All',
    'traffic is on 127.0.0.1; every child process and temp dir is removed at the end.',
    ...abuseMarkdown(r, load),
  )
  if (r.profiles.length) {
    out.push('', '## Where the time goes', '')
    out.push(
      'When (c) or (d) misses its target the bench repeats it with `node --cpu-prof` on the core process',
      '(a shorter run; throughput counts are not verified so the profile shows ingest only). Self time',
      'of a JS function includes the synchronous native work it calls (better-sqlite3 statements run',
      'inside the calling frame), and functions in dist/cli.js are mapped back to src-main through the',
      "bundle's source map.",
    )
    for (const p of r.profiles) out.push('', ...profileLines(p, 15))
  }
  out.push('', `Whole bench: ${r.seconds.toFixed(0)} s.`, '')
  return out.join('\n')
}

export function writeMarkdown(r: BenchResults): string {
  const file = path.join(ROOT, 'docs', 'benchmarks.md')
  writeFileSync(`${file}.tmp`, markdownReport(r))
  renameSync(`${file}.tmp`, file)
  return file
}
