// (n8) WebSocket clients of the live stream that stop reading while devices publish at QoS 1: does the
// fan-out take the core's time from ingest? The rate is measured in alternating windows without and
// with the streams open, so that a drift of the rate over the run (the store growing) cancels out.
import type { MqttClient } from 'mqtt'
import WebSocket from 'ws'
import { closeClients, connectClients, idleRss } from './abuse-probes'
import { cpuSecondsOf, memoryOf, removeDir, sleep, spawnCore, tempDir } from './processes'
import { measurement } from './publishers'

export interface FanOutConfig {
  /** WebSocket clients opened for each window with streams; those that get a frame stop reading. */
  sockets: number
  publishers: number
  /** Devices each publisher sends for, in turn: every stream interval then carries many changes. */
  devicesPerPublisher: number
  /** QoS 1 messages each publisher keeps unacknowledged. */
  inFlight: number
  warmupSeconds: number
  /** Windows without, with, without, with, without streams, this long each. */
  windowSeconds: number
  windows: number
}

export interface IngestRate {
  messages: number
  seconds: number
  /** PUBACKs per second. */
  rate: number
  /** Cores the core process used. */
  coreCores: number
}

export interface FanOutResult {
  /** Every window in order, the first without streams. */
  windows: Array<IngestRate & { streams: boolean }>
  /** The windows of each kind summed. */
  without: IngestRate
  with: IngestRate
  /** Streams that got their first frame (and were then paused), and those the core closed (the last window with streams). */
  opened: number
  refused: number
  /** The close reasons of refused streams, with how many got each (the last window with streams). */
  refusals: Record<string, number>
  /** Publishes that failed (a connection lost): the rates would not be of ingest alone. */
  errors: number
  idleRss: number
  peakRss: number
}

/** Publishers that each keep `inFlight` QoS 1 measurements unacknowledged until stopped. */
function startIngest(clients: MqttClient[], config: FanOutConfig) {
  const counts = { acks: 0, errors: 0 }
  let running = true
  const loops = clients.map(async (client, k) => {
    const pending = new Set<Promise<void>>()
    for (let i = 0; running; i++) {
      const topic = `te/device/fan-${k}-${i % config.devicesPerPublisher}///m/env`
      const p: Promise<void> = client
        .publishAsync(topic, measurement(k * 1_000_000 + i), { qos: 1 })
        .then(
          () => {
            counts.acks++
          },
          () => {
            counts.errors++
          },
        )
        .finally(() => pending.delete(p))
      pending.add(p)
      if (pending.size >= config.inFlight) await Promise.race(pending)
    }
    await Promise.all(pending)
  })
  return {
    counts,
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}

async function measure(pid: number, counts: { acks: number }, seconds: number): Promise<IngestRate> {
  const acks = counts.acks
  const cpu = cpuSecondsOf(pid)
  const started = performance.now()
  await sleep(seconds * 1000)
  const elapsed = (performance.now() - started) / 1000
  const messages = counts.acks - acks
  return {
    messages,
    seconds: elapsed,
    rate: messages / elapsed,
    coreCores: (cpuSecondsOf(pid) - cpu) / elapsed,
  }
}

function sum(rates: IngestRate[]): IngestRate {
  const messages = rates.reduce((n, r) => n + r.messages, 0)
  const seconds = rates.reduce((n, r) => n + r.seconds, 0)
  const cores = rates.reduce((n, r) => n + r.coreCores * r.seconds, 0)
  return { messages, seconds, rate: messages / seconds, coreCores: cores / seconds }
}

/** Opens a stream with the bearer token: `open` once its first frame came, else the close reason. */
function openStream(ws: string, token: string): Promise<{ socket: WebSocket; outcome: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${ws}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` } })
    socket.once('message', () => resolve({ socket, outcome: 'open' }))
    socket.once('close', (code, reason) => resolve({ socket, outcome: `${code} ${String(reason)}`.trim() }))
    socket.once('error', (error) => resolve({ socket, outcome: error.message }))
  })
}

/** Drops the connection; a paused WebSocket reports its close only once reading again. */
function closeStream(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve()
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.resume()
  socket.terminate()
  return Promise.race([closed, sleep(2000)])
}

export async function webSocketFanOut(config: FanOutConfig): Promise<FanOutResult> {
  const dataDir = tempDir('abuse-fanout')
  const core = await spawnCore(dataDir)
  const sockets: WebSocket[] = []
  let refusals: Record<string, number> = {}
  let opened = 0
  try {
    const idle = await idleRss(core.pid)
    const clients = await connectClients(core.ready.mqtt, config.publishers, 'bench-fan')
    const ingest = startIngest(clients, config)
    await sleep(config.warmupSeconds * 1000)
    const windows: FanOutResult['windows'] = []
    const ws = core.ready.http.replace(/^http/, 'ws')
    for (let w = 0; w < config.windows; w++) {
      const streams = w % 2 === 1
      if (streams) {
        opened = 0
        refusals = {}
        for (const { socket, outcome } of await Promise.all(
          Array.from({ length: config.sockets }, () => openStream(ws, core.ready.token)),
        )) {
          sockets.push(socket)
          if (outcome === 'open') {
            opened++
            // Stops reading: what the core sends piles up in its socket buffers, as for a stalled browser.
            socket.pause()
          } else refusals[outcome] = (refusals[outcome] ?? 0) + 1
        }
      } else await Promise.all(sockets.splice(0).map(closeStream))
      windows.push({ ...(await measure(core.pid, ingest.counts, config.windowSeconds)), streams })
    }
    await ingest.stop()
    await closeClients(clients)
    return {
      windows,
      without: sum(windows.filter((w) => !w.streams)),
      with: sum(windows.filter((w) => w.streams)),
      opened,
      refused: config.sockets - opened,
      refusals,
      errors: ingest.counts.errors,
      idleRss: idle,
      peakRss: memoryOf(core.pid).peak,
    }
  } finally {
    await Promise.all(sockets.map(closeStream))
    await core.stop()
    removeDir(dataDir)
  }
}
