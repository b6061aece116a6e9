import { Buffer } from 'node:buffer'
import mqtt, { type MqttClient } from 'mqtt'
import { type Batch, decodePayload, NAMESPACE } from '../src-main/core/sync/protocol'
import { freePort } from '../test/helpers/mosquitto'
import { startProxy, type TcpProxy } from '../test/helpers/tcp-proxy'
import { Api } from './api'
import { cpuSecondsOf, memoryOf, spawnCore, spawnMosquitto, tempDir, waitFor } from './processes'
import {
  type SyncLoad,
  syncDevice,
  syncKind,
  syncMessage,
  syncTopic,
  VALUES_PER_SYNC_MESSAGE,
} from './sync-load'

export interface SyncBenchConfig {
  /** Values queued while the cloud broker is away, then drained. */
  values: number
  /** Child devices sending them, each one measurement message per period. */
  devices: number
  periodMs: number
  /** MQTT clients publishing for the devices (a device always uses the same one). */
  clients: number
  site: string
}

export interface SyncResult {
  values: number
  messages: number
  /** Publishing every message at QoS 1 until the backlog showed every value queued. */
  fillSeconds: number
  backlog: { items: number; values: number; bytes: number }
  /** From the `connected` state to an empty backlog and every value at the cloud subscriber. */
  drainSeconds: number
  valuesPerSecond: number
  /** Deltas of GET /api/v1/sync/status over the drain. */
  sent: { values: number; batches: number; bytes: number; uncompressedBytes: number }
  dropped: number
  /** The cloud subscriber's count: first copies only; duplicates are redelivered items. */
  received: { values: number; items: number; batches: number; duplicates: number; undecodable: number }
  /** Batches received by the kinds of their items, e.g. `measurements` or `entity+twin`. */
  batchesByKind: Record<string, number>
  /** Bytes through the TCP proxy between the core and mosquitto: up = core → broker. */
  wire: { up: number; down: number }
  rssBefore: number
  peakRss: number
  coreCores: number
  rejected: number
  exitCode: number | null
  baseline: {
    messages: number
    values: number
    /** What the naive bridge sent through the same proxy (CONNECT included), and got back. */
    wire: { up: number; down: number }
    /** The same, computed: Σ PUBLISH packet sizes (fixed header + topic + packet id + payload). */
    computedUp: number
    payloadBytes: number
    topic: string
    seconds: number
  }
}

/**
 * (l, m) Cloud sync after an outage: `edgetwin serve` with sync pointed at a port where nothing
 * listens queues a backlog from realistic devices; then mosquitto starts behind a byte-counting proxy,
 * the core is pointed at it, and the drain is timed until a subscriber on the site's upstream topics
 * has every value. The same messages then go through the same proxy one MQTT message each, as a
 * naive bridge would forward them: the baseline of (m).
 */
export async function syncDrain(config: SyncBenchConfig): Promise<SyncResult> {
  const perRound = config.devices * VALUES_PER_SYNC_MESSAGE
  if (config.values % perRound !== 0) throw new Error(`values must be a multiple of ${perRound}`)
  const rounds = config.values / perRound
  const load: SyncLoad = {
    devices: config.devices,
    rounds,
    periodMs: config.periodMs,
    // The outage ended just now: its samples span the last rounds × period.
    startMs: Math.floor((Date.now() - rounds * config.periodMs) / 1000) * 1000,
  }
  const nowhere = await freePort()
  const core = await spawnCore(tempDir('sync'), {
    args: ['--sync-url', `mqtt://127.0.0.1:${nowhere}`, '--site-id', config.site],
  })
  const clients: MqttClient[] = []
  let mosquitto: Awaited<ReturnType<typeof spawnMosquitto>> | undefined
  let proxy: TcpProxy | undefined
  let subscriber: MqttClient | undefined
  try {
    const api = new Api(core.ready)
    for (let c = 0; c < config.clients; c++)
      clients.push(
        await mqtt.connectAsync(core.ready.mqtt, { clientId: `bench-line-${c}`, reconnectPeriod: 0 }),
      )
    const clientOf = (d: number) => clients[d % clients.length] as MqttClient
    const before = await api.status()
    await Promise.all(
      Array.from({ length: config.devices }, (_, d) =>
        clientOf(d).publishAsync(
          `te/${syncDevice(d)}`,
          JSON.stringify({ '@type': 'child-device', name: `Line ${d}`, type: syncKind(d).type }),
          { qos: 1, retain: true },
        ),
      ),
    )
    await waitFor(
      `${config.devices} devices registered`,
      async () => ((await api.status()).entities >= before.entities + config.devices ? true : undefined),
      30_000,
      20,
    )

    // A round is one message per device; the core holds each QoS 1 PUBACK until its commit, so a
    // commit never holds two messages of one device, as at a real sampling period (the outbox
    // then has one item per message: no joined rows flattering the batches).
    const fillStart = performance.now()
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        Array.from({ length: config.devices }, (_, d) =>
          clientOf(d).publishAsync(syncTopic(d), syncMessage(load, d, r), { qos: 1 }),
        ),
      )
    }
    const queued = await waitFor(
      `${config.values} values in the sync backlog`,
      async () => {
        const status = await api.syncStatus()
        if (status.backlog.values > config.values)
          throw new Error(`${status.backlog.values} values in the backlog, more than published`)
        return status.backlog.values === config.values ? status : undefined
      },
      60_000,
      20,
    )
    const fillSeconds = (performance.now() - fillStart) / 1000
    await Promise.all(clients.splice(0).map((c) => c.endAsync()))

    mosquitto = await spawnMosquitto(await freePort())
    proxy = await startProxy(Number(new URL(mosquitto.url).port))
    const cloud = proxy
    const received = { values: 0, items: 0, batches: 0, duplicates: 0, undecodable: 0 }
    const batchesByKind: Record<string, number> = {}
    const seen = new Set<string>()
    let allAt: number | undefined
    subscriber = await mqtt.connectAsync(mosquitto.url, { clientId: 'bench-cloud', reconnectPeriod: 0 })
    subscriber.on('message', (_topic, payload) => {
      received.batches++
      decodePayload(payload).then(
        (decoded) => {
          const { items } = decoded as Batch
          const kinds = [...new Set(items.map((item) => item.kind))].sort().join('+')
          batchesByKind[kinds] = (batchesByKind[kinds] ?? 0) + 1
          for (const item of items) {
            if (seen.has(item.id)) {
              received.duplicates++
              continue
            }
            seen.add(item.id)
            received.items++
            if (item.kind !== 'measurements') continue
            for (const group of item.samples as Array<{ rows: number[][] }>)
              for (const row of group.rows) received.values += row.length - 1
          }
          if (allAt === undefined && received.values >= config.values) allAt = Date.now()
        },
        () => received.undecodable++,
      )
    })
    // `#` also matches its parent level [MQTT-4.7.1-2]: one topic `…/up`, or one per kind `…/up/<kind>`.
    await subscriber.subscribeAsync(upstream(config.site), { qos: 1 })

    const rssBefore = memoryOf(core.pid).rss
    let peakRss = rssBefore
    const cpuBefore = cpuSecondsOf(core.pid)
    await api.configureSync({ url: cloud.url })
    let connectedAt: number | undefined
    let emptyAt: number | undefined
    const drained = await waitFor(
      'the backlog drained and every value at the cloud subscriber',
      async () => {
        peakRss = Math.max(peakRss, memoryOf(core.pid).rss)
        const status = await api.syncStatus()
        // `since` is when the core saw CONNACK (epoch ms, same clock): the backoff is not timed.
        if (connectedAt === undefined && status.state === 'connected') connectedAt = status.since
        if (emptyAt === undefined && status.backlog.values === 0) emptyAt = Date.now()
        return emptyAt !== undefined && allAt !== undefined ? status : undefined
      },
      300_000,
      20,
    )
    const wire = { ...cloud.bytes }
    const coreCpu = cpuSecondsOf(core.pid) - cpuBefore
    if (connectedAt === undefined || emptyAt === undefined || allAt === undefined)
      throw new Error('the drain was not observed')
    const drainSeconds = (Math.max(emptyAt, allAt) - connectedAt) / 1000
    const { ingest } = await api.status()
    const exitCode = await core.stop()

    const baseline = await naiveBridge(cloud, load, config.site)
    return {
      values: config.values,
      messages: rounds * config.devices,
      fillSeconds,
      backlog: { items: queued.backlog.items, values: queued.backlog.values, bytes: queued.backlog.bytes },
      drainSeconds,
      valuesPerSecond: config.values / drainSeconds,
      sent: {
        values: drained.sent.values - queued.sent.values,
        batches: drained.sent.batches - queued.sent.batches,
        bytes: drained.sent.bytes - queued.sent.bytes,
        uncompressedBytes: drained.sent.uncompressedBytes - queued.sent.uncompressedBytes,
      },
      dropped: drained.dropped.values,
      received,
      batchesByKind,
      wire,
      rssBefore,
      peakRss,
      coreCores: coreCpu / drainSeconds,
      rejected: ingest.rejected - before.ingest.rejected,
      exitCode,
      baseline,
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await subscriber?.endAsync(true)
    await core.stop()
    await proxy?.stop()
    await mosquitto?.stop()
  }
}

const BRIDGE_WINDOW = 1000

export const upstream = (site: string) => `${NAMESPACE}/${site}/up/#`

/** Bytes of an MQTT 3.1.1 PUBLISH at QoS 1: fixed header, topic with its length, packet id, payload. */
function publishBytes(topic: string, payload: string): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + Buffer.byteLength(payload)
  // The remaining length is a varint of 7 bits per byte [MQTT-2.2.3].
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4
  return 1 + lengthBytes + remaining
}

/**
 * The baseline: every message forwarded as it came, at QoS 1, under the site's prefix (a mosquitto
 * bridge's `topic te/# out 1 "" <site>/`), through the proxy the core used.
 */
async function naiveBridge(proxy: TcpProxy, load: SyncLoad, site: string): Promise<SyncResult['baseline']> {
  const up = proxy.bytes.up
  const down = proxy.bytes.down
  const started = performance.now()
  const bridge = await mqtt.connectAsync(proxy.url, { clientId: 'bench-naive-bridge', reconnectPeriod: 0 })
  let computedUp = 0
  let payloadBytes = 0
  try {
    // In the order the devices sent them; up to BRIDGE_WINDOW unacknowledged (the pace is not measured).
    for (let r = 0; r < load.rounds; ) {
      const acks: Array<Promise<unknown>> = []
      for (const end = Math.min(load.rounds, r + BRIDGE_WINDOW / load.devices); r < end; r++) {
        for (let d = 0; d < load.devices; d++) {
          const topic = `${site}/${syncTopic(d)}`
          const payload = syncMessage(load, d, r)
          computedUp += publishBytes(topic, payload)
          payloadBytes += Buffer.byteLength(payload)
          acks.push(bridge.publishAsync(topic, payload, { qos: 1 }))
        }
      }
      await Promise.all(acks)
    }
  } finally {
    await bridge.endAsync()
  }
  const messages = load.rounds * load.devices
  return {
    messages,
    values: messages * VALUES_PER_SYNC_MESSAGE,
    wire: { up: proxy.bytes.up - up, down: proxy.bytes.down - down },
    computedUp,
    payloadBytes,
    topic: `${site}/${syncTopic(0)}`,
    seconds: (performance.now() - started) / 1000,
  }
}
