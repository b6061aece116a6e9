// The cloud sync phase (l, m) in the bench report: its table rows, sanity checks, details and method.
import type { Phase, Row, Status } from './report'
import { type SyncBenchConfig, type SyncResult, upstream } from './sync'
import { VALUES_PER_SYNC_MESSAGE } from './sync-load'

/** (l) and (m) come from the same run. */
export interface SyncPhases {
  sync: SyncBenchConfig
  l: Phase<SyncResult>
}

export const SYNC_TARGETS = {
  /** Values/s from connected to an empty backlog, on this machine. */
  drainValuesPerSecond: 50_000,
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const perValue = (bytes: number, values: number) => `${(bytes / values).toFixed(2)} B`
const check = (ok: boolean): Status => (ok ? 'PASS' : 'FAIL')

const drainMeasure = (c: SyncBenchConfig) =>
  `Sync drain: ${int(c.values)} queued values to a real mosquitto, values/s (time from connected)`
const bandwidthMeasure =
  'Sync bandwidth, wire bytes per value: batches + gzip / one MQTT message per measurement (saving)'

export function syncRows({ sync, l }: SyncPhases): Row[] {
  const target = `≥ ${int(SYNC_TARGETS.drainValuesPerSecond)}`
  if (l.skipped) return []
  if (!l.value) {
    const result = `error: ${l.error ?? 'not run'}`
    return [
      { id: 'l', measure: drainMeasure(sync), result, target, status: 'ERROR' },
      { id: 'm', measure: bandwidthMeasure, result, target: '—', status: 'ERROR' },
    ]
  }
  const v = l.value
  const edge = v.wire.up / v.values
  const naive = v.baseline.wire.up / v.baseline.values
  return [
    {
      id: 'l',
      measure: drainMeasure(sync),
      result: `${int(v.valuesPerSecond)} (${v.drainSeconds.toFixed(2)} s)`,
      target,
      status: check(v.valuesPerSecond >= SYNC_TARGETS.drainValuesPerSecond),
    },
    {
      id: 'm',
      measure: bandwidthMeasure,
      result: `${perValue(v.wire.up, v.values)} / ${perValue(v.baseline.wire.up, v.baseline.values)} (÷ ${(naive / edge).toFixed(1)})`,
      target: '—',
      status: '—',
    },
  ]
}

/** Counts that must agree for the drain and the bytes per value to mean anything. */
export function syncSanityProblems({ l }: SyncPhases): string[] {
  const v = l.value
  if (!v) return []
  const problems: string[] = []
  if (v.backlog.values !== v.values) problems.push(`(l) ${v.backlog.values} of ${v.values} values queued`)
  if (v.sent.values !== v.values || v.received.values !== v.values)
    problems.push(
      `(l) values queued ${v.values}, acknowledged ${v.sent.values}, received ${v.received.values}`,
    )
  if (v.received.items < v.backlog.items)
    problems.push(`(l) ${v.backlog.items} items queued, ${v.received.items} received`)
  if (v.received.undecodable > 0) problems.push(`(l) ${v.received.undecodable} batches not decodable`)
  if (v.dropped > 0) problems.push(`(l) the outbox bound dropped ${v.dropped} values`)
  if (v.rejected > 0) problems.push(`(l) ${v.rejected} messages rejected by the core`)
  if (v.exitCode !== 0) problems.push(`(l) the core exited with ${v.exitCode} on SIGTERM`)
  // The proxy's count also holds CONNECT and DISCONNECT: a few dozen bytes over the PUBLISHes.
  const extra = v.baseline.wire.up - v.baseline.computedUp
  if (extra < 0 || extra > 200)
    problems.push(
      `(m) the naive bridge sent ${v.baseline.wire.up} bytes, its PUBLISH packets add up to ${v.baseline.computedUp}`,
    )
  return problems
}

export function syncDetails({ sync, l }: SyncPhases): Array<{ id: string; text: string }> {
  const v = l.value
  if (!v) return []
  const kinds = Object.entries(v.batchesByKind)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${int(n)} ${kind}`)
    .join(', ')
  const noGzip = v.wire.up - v.sent.bytes + v.sent.uncompressedBytes
  return [
    {
      id: 'l',
      text: `${int(v.values)} values in ${int(v.messages)} messages from ${sync.devices} devices queued in ${v.fillSeconds.toFixed(1)} s (${int(v.backlog.items)} outbox items, ${mb(v.backlog.bytes)}); drained in ${v.drainSeconds.toFixed(2)} s: ${int(v.sent.batches)} batches (${kinds}), ${mb(v.sent.bytes)} gzip of ${mb(v.sent.uncompressedBytes)} JSON (${(v.sent.uncompressedBytes / v.sent.bytes).toFixed(1)}×), ${mb(v.wire.up)} up and ${int(v.wire.down)} B down on the wire; the cloud subscriber got ${int(v.received.values)} values in ${int(v.received.items)} items, ${v.received.duplicates} duplicates; core ${v.coreCores.toFixed(2)} cores, RSS ${mb(v.rssBefore)} before, peak ${mb(v.peakRss)} during the drain`,
    },
    {
      id: 'm',
      text: `EdgeTwin ${int(v.wire.up)} B up for ${int(v.values)} values = ${perValue(v.wire.up, v.values)}/value (gzip payloads alone ${perValue(v.sent.bytes, v.values)}; the same batches without gzip ${perValue(noGzip, v.values)}); one message per measurement ${int(v.baseline.wire.up)} B up for ${int(v.baseline.messages)} QoS 1 PUBLISHes = ${perValue(v.baseline.wire.up, v.baseline.values)}/value (payloads alone ${perValue(v.baseline.payloadBytes, v.baseline.values)}; computed from packet sizes ${int(v.baseline.computedUp)} B), topic like \`${v.baseline.topic}\``,
    },
  ]
}

export function syncMethod({ sync }: SyncPhases): string[] {
  const rounds = sync.values / (sync.devices * VALUES_PER_SYNC_MESSAGE)
  return [
    `- **(l) Sync drain**: \`edgetwin serve --no-sim\` (fresh data dir) with \`--sync-url\` at a loopback port where`,
    `  nothing listens, so the outbox fills. ${sync.devices} child devices, registered over MQTT, half a process line and`,
    `  half energy meters, each send ${int(rounds)} thin-edge.io measurements \`te/device/line-NNN///m/<type>\` of`,
    `  ${VALUES_PER_SYNC_MESSAGE} values, \`{"time":<unix s>.mmm,"temperature":61.93,…}\`: per series a sine with its own period,`,
    `  phase and offset plus noise, 1 to 3 decimals, sampled every ${sync.periodMs / 1000} s with a few ms of jitter up to now.`,
    `  ${sync.clients} mqtt.js clients publish them at QoS 1 in rounds of one message per device; a round starts when the`,
    '  last is acknowledged, which the core does after its commit. So, as at a real sampling period, no',
    '  commit holds two messages of one device and each message is its own outbox item. Then a Debian',
    `  mosquitto starts with a subscriber (mqtt.js, QoS 1) on \`${upstream(sync.site)}\` that gunzips every`,
    '  batch and counts the values of the measurement items it has not seen before (by item id), and',
    "  `PUT /api/v1/sync/config` points the core at it. Timed from the core's `connected` state (`since`",
    '  in `GET /api/v1/sync/status`, so no reconnect backoff is counted) until the status shows an empty',
    '  backlog and the subscriber has every value (status polled every 20 ms, with the RSS of the core',
    '  from /proc/<pid>/status).',
    '- **(m) Sync bandwidth**: the core reaches mosquitto through a TCP proxy in the bench process',
    '  (test/helpers/tcp-proxy.ts, TCP_NODELAY on both legs) that counts the bytes each way; "up" is everything',
    '  the core sent over the drain (CONNECT, SUBSCRIBE and the PUBLISHes). The baseline sends the same',
    '  messages through the same proxy to the same mosquitto as a naive bridge would forward them: one',
    `  QoS 1 PUBLISH each, payload unchanged, topic prefixed with the site (\`${sync.site}/te/…\`, as a mosquitto`,
    '  bridge\'s `topic te/# out 1 "" <site>/` does), from mqtt.js. Bytes per value = bytes up ÷ values.',
    '  "Without gzip" puts each batch\'s JSON (the status API\'s `uncompressedBytes`) in place of its gzip',
    '  payload: batches are cut by the size of their items before compression, so they would be the same.',
  ]
}
