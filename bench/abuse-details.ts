// The abuse group's Details rows and Method text in docs/benchmarks.md: every figure a phase measured,
// and how, next to how the attack report did it where the bench does it differently.
import type { AbuseId, AbusePhases } from './abuse'
import type { HealthSummary } from './abuse-probes'
import type { HeldRun } from './abuse-registry'

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const mb = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0)} MB`
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`
const health = (h: HealthSummary) =>
  `/health probed ${h.probes} time${h.probes === 1 ? '' : 's'}, slowest ${ms(h.maxMs)}, ${h.failed} without a 200${h.firstFailure === undefined ? '' : ` (first: ${h.firstFailure})`}`
const answer = (a: number | string) => (typeof a === 'number' ? String(a) : `"${a}"`)

function heldRun(name: string, v: HeldRun): string {
  return `${name}: ${int(v.held)} held, ${int(v.rejected)} refused in ${v.seconds.toFixed(1)} s; core CPU ${int(v.firstUs)} µs per message over the first batch, ${int(v.lastUs)} µs over the last; RSS idle ${mb(v.idleRss)}, peak ${mb(v.peakRss)}`
}

export function abuseDetails(r: AbusePhases): Array<{ id: AbuseId; text: string }> {
  const out: Array<{ id: AbuseId; text: string }> = []
  const v1 = r.n1.value
  if (v1) {
    const packets = v1.packets
      .map(
        (p) =>
          `\`${p.topic}\` ${mb(p.bytes)}${p.retain ? ' retained' : ''}: ${p.outcome} after ${mb(p.written)} written, ${p.seconds.toFixed(1)} s`,
      )
      .join('; ')
    out.push({
      id: 'n1',
      text: `${packets}. ${health(v1.health)}; afterwards /health ${answer(v1.after.health)}, /status ${answer(v1.after.api)}, core ${v1.alive ? 'running' : 'GONE'}; RSS idle ${mb(v1.idleRss)}, peak ${mb(v1.peakRss)}, after ${mb(v1.rssAfter)}; data dir ${mb(v1.dataDirBytes)}; the API shows \`device/big//\` with ${v1.stored.twinKeys ?? '?'} twin keys, ${v1.stored.events ?? '?'} events, ${v1.stored.alarms ?? '?'} alarms`,
    })
  }
  const v2 = r.n2.value
  if (v2) {
    out.push({
      id: 'n2',
      text: `first device: ${int(v2.published)} published, ${int(v2.acked)} PUBACKed; ${int(v2.ackedWhileFull)} PUBACKs while full (new devices included), ${int(v2.stored)} stored, ${int(v2.lost)} PUBACKed and not stored (${int(v2.lostWhileFull)} of them while full); ${mb(v2.freeAfterFill)} free after the fill; status said ${v2.conditions.join(', ') || 'nothing'} while full${v2.reason ? ` ("${v2.reason}")` : ''}; while full, one new device a second sent one value: ${v2.late.acknowledged} PUBACKed, ${v2.late.refused} refused (closed without a PUBACK), ${v2.late.unanswered} unanswered; ${v2.refused === undefined ? '' : `${int(v2.refused)} messages refused in all; `}the first device reconnected ${v2.reconnects} times; ${health(v2.health)}; /status slowest ${ms(v2.statusMaxMs)}, ${v2.statusFailed} failed; ${v2.resumeSeconds === undefined ? 'no resumption within 30 s' : `${int(r.abuse.disk.acks)} more PUBACKs ${v2.resumeSeconds.toFixed(1)} s after the space came back`}; ${v2.died === undefined ? '' : `the core ended by itself (${v2.died}); `}${v2.restarted ? `it no longer answered: stopped (exit ${v2.exitCode}) and a new core counted the stored values` : `exit code ${v2.exitCode} on SIGTERM`}; integrity_check ${v2.integrity}`,
    })
  }
  const v3 = r.n3.value
  if (v3) {
    out.push({
      id: 'n3',
      text: `${int(v3.published)} published, ${int(v3.acknowledged)} PUBACKed, ${int(v3.received)} distinct values printed by cloud-tail (${int(v3.items)} items), ${int(v3.lost)} PUBACKed and never printed, ${int(v3.duplicates)} printed twice; ${v3.sigterm} SIGTERM and ${v3.sigkill} kill -9 in ${v3.seconds.toFixed(0)} s${v3.badExits.length ? `; SIGTERM exit codes ${v3.badExits.join(', ')}` : ', every SIGTERM exit 0'}; last core's outbox ${int(v3.backlogItems)} items, ${int(v3.dropped)} values dropped by its bound`,
    })
  }
  const v4 = r.n4.value
  if (v4) {
    out.push({
      id: 'n4',
      text: `${int(v4.sent)} messages in ${v4.seconds.toFixed(1)} s (${int(v4.sent / v4.seconds)} msg/s); entities ${int(v4.entitiesBefore)} → ${int(v4.entitiesAfter)}; ${int(v4.rejected)} refused; ${health(v4.health)}; \`GET /api/v1/entities\` ${answer(v4.page.answer)}, ${int(v4.page.bytes)} B in ${ms(v4.page.ms)}; RSS idle ${mb(v4.idleRss)}, peak ${mb(v4.peakRss)}`,
    })
  }
  const v5 = r.n5.value
  if (v5) {
    out.push({
      id: 'n5',
      text: `${heldRun('default bound', v5.defaults)}. ${heldRun(`bound ${int(v5.raised.bound ?? 0)}`, v5.raised)}`,
    })
  }
  const v6 = r.n6.value
  if (v6) {
    const byAnswer = new Map<string, string[]>()
    for (const route of v6.routes) {
      const key = answer(route.encoded)
      byAnswer.set(key, [...(byAnswer.get(key) ?? []), route.path.replace(/^\/api\/v1/, '')])
    }
    const groups = [...byAnswer].map(([key, paths]) => `${key}: ${paths.map((p) => `\`${p}\``).join(', ')}`)
    out.push({
      id: 'n6',
      text: `\`/%61pi/v1/…\` without a token answered ${groups.join('; ')}; with the token, as documented: ${v6.routes.filter((x) => typeof x.plain === 'number' && x.plain < 300).length} of ${v6.routes.length} 2xx; \`/%61pi/v1/stream\` upgrade without a token: ${answer(v6.stream)}`,
    })
  }
  const v7 = r.n7.value
  if (v7) {
    out.push({
      id: 'n7',
      text: `${v7.status}${v7.reason ? ` ("${v7.reason}")` : ''} after ${v7.seconds.toFixed(1)} s (${int(v7.bytes / 1e6 / v7.seconds)} MB/s); installed ${v7.installedBytes === undefined ? 'nothing' : `${int(v7.installedBytes)} B`}; RSS idle ${mb(v7.idleRss)}, peak ${mb(v7.peakRss)}, after ${mb(v7.rssAfter)}; ${health(v7.health)}`,
    })
  }
  const v8 = r.n8.value
  if (v8) {
    const refusals = Object.entries(v8.refusals)
      .map(([reason, n]) => `${n} × "${reason}"`)
      .join(', ')
    const windows = v8.windows.map((w) => `${int(w.rate)}${w.streams ? ' (streams)' : ''}`).join(', ')
    out.push({
      id: 'n8',
      text: `msg/s per window: ${windows}; without streams ${int(v8.without.messages)} PUBACKs in ${v8.without.seconds.toFixed(1)} s, core ${v8.without.coreCores.toFixed(2)} cores; with ${v8.opened} streams open and paused ${int(v8.with.messages)} in ${v8.with.seconds.toFixed(1)} s, core ${v8.with.coreCores.toFixed(2)} cores; refused in a window with streams: ${refusals || 'none'}; RSS idle ${mb(v8.idleRss)}, peak ${mb(v8.peakRss)}`,
    })
  }
  const v9 = r.n9.value
  if (v9) {
    out.push({
      id: 'n9',
      text: `${v9.connected} connected, ${v9.failed} failed${v9.firstFailure ? ` (first: "${v9.firstFailure}")` : ''}; core descriptors ${v9.descriptors} of ${v9.limit}; with the connections open /health ${answer(v9.during.health)}, \`GET /api/v1/status\` with the token ${answer(v9.during.api)}; after they closed ${answer(v9.after.health)} and ${answer(v9.after.api)}; core ${v9.alive ? 'running' : 'GONE'}`,
    })
  }
  return out
}

export function abuseMethod({ abuse: c }: AbusePhases): string[] {
  return [
    'Each phase starts `edgetwin serve --no-sim` (bench/processes.ts `spawnCore`: dist/cli.js, a fresh data dir, ephemeral',
    'ports, log level warn) and attacks it with real clients over loopback, as the report did. "RSS" is the core',
    'process\'s VmRSS, "peak" its VmHWM (/proc/<pid>/status), "idle" its VmRSS 1 s after it was ready. An answer',
    `slower than 5 s counts as none. MB = 10^6 bytes. The report's sizes are kept where the group's few minutes allow.`,
    '',
    `- **(n1) Huge packets**: a raw TCP client (MQTT 3.1.1 CONNECT, then one QoS 1 PUBLISH per connection) sends retained`,
    `  \`te/device/big///twin/blob<N>\` \`{"blob":"aaa…"}\` of ${c.packets.twinBytes.map(mb).join(', ')}, then ${mb(c.packets.hugeBytes)} each to`,
    '  `…/e/huge` (`{"text":"aaa…"}`), `…/m/huge` (random bytes) and `…/a/huge` (retained alarm), as the report\'s R2 and',
    '  R7 did. The packet is generated while it is written, 1 MiB at a time,',
    '  waiting for the socket to drain. The outcome is the PUBACK, the socket closed by the core (with the bytes the',
    `  socket had taken), or neither within ${c.packets.answerTimeoutMs / 1000} s. /health is probed every 200 ms throughout; afterwards`,
    '  the API is asked what it holds of `device/big//` (twin keys, events, alarms): "stored" means that.',
    `- **(n2) Disk full**: the data dir (database and logs, the default layout: the report's R9a had its logs elsewhere, R9b`,
    `  not) on a fresh ${c.disk.volumeMiB} MiB tmpfs, \`--min-free-disk ${c.disk.reserve}\` so that the store itself fails as in the report. A device`,
    `  publishes \`te/device/disk01///m/load\` \`{"time":…,"value":i}\` at QoS 1 (${c.disk.inFlight} in flight, each time 1 ms after the last,`,
    '  reconnecting 100 ms after a drop). After 2,000 PUBACKs the bench fills the volume with a file until ENOSPC (the',
    `  report filled it through \`PUT /te/v1/files\`), keeps it full ${c.disk.fullSeconds} s while polling /health every 100 ms and \`GET /api/v1/status\``,
    "  every 250 ms, and a new device connects each second and sends one value (the first device's messages in",
    `  flight wait for their PUBACK); then the bench deletes the file and waits (30 s at most) for ${int(c.disk.acks)} more PUBACKs. Then every time the series holds is`,
    '  read back through `GET /api/v1/series/:id` in 9 s windows answered raw, and each PUBACKed time looked up in it.',
    `- **(n3) Sync across restarts**: mosquitto as the cloud, \`edgetwin cloud-tail\` printing what the site delivers. A device`,
    `  publishes \`te/device/restarts///m/counter\` \`{"n":…}\` at QoS 1 (${c.sync.inFlight} in flight, up to ~5,000 msg/s) to the core's fixed MQTT`,
    `  port, reconnecting every 20 ms. ${c.sync.cycles} cores are started on one data dir (the first with \`--sync-url\`), each ended by SIGTERM`,
    `  or kill -9 in turn once it has PUBACKed ${int(c.sync.acksPerCycle)} more; one more core stays until the cloud printed every PUBACKed value`,
    `  (${c.sync.drainTimeoutMs / 1000} s at most). The report ran 10 clean restarts (T3b) and 25 kill -9 during an outage and its drain (T3).`,
    `- **(n4) Entity flood**: ${int(c.flood.ids)} messages \`te/device/x<N>///m/env\` \`{"v":1}\`, each a new id, spread over ${c.flood.clients} mqtt.js`,
    `  clients at QoS 1 (${c.flood.window} in flight each), against the default caps; the report used one client and there were no caps.`,
    '  Timed until the last PUBACK; then `GET /api/v1/entities` (the first page, as the UI asks) with the token.',
    `- **(n5) Held registrations**: ${int(c.held.registrations)} retained \`te/device/h<N>//\` \`{"@type":"child-device","@parent":"device/nop<N>//"}\``,
    `  (every parent distinct, none ever comes) from ${c.held.clients} clients at QoS 1, first with the default bound, then with`,
    `  \`--max-held-registrations ${c.held.registrations}\`; core CPU (utime + stime, /proc/<pid>/stat) per message over the first and the last`,
    `  ${int(c.held.batch)}, as the report's R1b did.`,
    '- **(n6) Auth bypass**: first a measurement and an alarm of the main device over MQTT and a `config_snapshot`',
    '  through the API, so that the routes with ids have something to show; then every GET route of',
    '  `/api/v1/openapi.json` not declared public, its parameters filled with those ids, is asked for as documented',
    '  with the token and as `/%61pi/v1/…` without one; then a WebSocket upgrade of `/%61pi/v1/stream` without one.',
    `- **(n7) Big download**: \`te/device/main///cmd/software_update/bench-big-1\` (retained, QoS 1, no credential) installing a`,
    `  \`file\` module whose URL is a local HTTP server sending ${(c.download.bytes / 1024 ** 3).toFixed(0)} GiB chunked, generated while sent`,
    '  (test/helpers/stream-server.ts); polled through `GET /api/v1/operations` until the command ends.',
    `- **(n8) WebSocket fan-out**: ${c.fanOut.publishers} mqtt.js clients each keep ${c.fanOut.inFlight} QoS 1 measurements of 10 values in`,
    `  flight, each client for ${c.fanOut.devicesPerPublisher} devices in turn, so that every 250 ms stream frame carries thousands of changes.`,
    `  After ${c.fanOut.warmupSeconds} s of warm-up, PUBACKs are counted in ${c.fanOut.windows} windows of ${c.fanOut.windowSeconds} s, alternately without and with streams:`,
    `  before each window with streams, ${c.fanOut.sockets} WebSocket clients open \`/api/v1/stream\` with the bearer token and each that`,
    '  gets its first frame stops reading (`ws.pause()`); before each window without, they are dropped. Alternating',
    "  cancels the drift of the rate as the store grows. The report's publisher settings are not known: compare the",
    '  ratio, not the rates.',
    `- **(n9) Descriptors**: the core started as \`bash -c 'ulimit -n ${c.descriptors.ulimit} && exec node …'\` (checked in /proc/<pid>/limits);`,
    `  ${c.descriptors.connections} mqtt.js clients connect at once (${c.descriptors.connectTimeoutMs / 1000} s CONNACK timeout). With them open, /health and`,
    '  `GET /api/v1/status` with the token; again after they are closed. The report used `ulimit -n 1024` and 1,100',
    '  clients.',
  ]
}
