// (n1) Huge MQTT packets: retained twin fragments of many MB and PUBLISH packets of 200 MB, written
// raw to a TCP socket as the attack did (mqtt.js would build each packet in memory first). The
// bytes are generated while they are sent, so the bench holds one chunk, not the packet. Whatever
// the core does is recorded: a PUBACK, the socket closed (and after how many bytes), or nothing.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { EntityDetail } from '../src-main/core/api/types'
import { connect, field, remainingLength } from '../test/helpers/raw-mqtt'
import { type Answers, answers, type HealthSummary, idleRss, watchHealth } from './abuse-probes'
import { Api } from './api'
import { memoryOf, removeDir, spawnCore, tempDir } from './processes'

export interface PacketsConfig {
  /** Retained `twin/<key>` fragments `{"blob":"aaa…"}`, bytes each, sent first. */
  twinBytes: number[]
  /** Bytes of each of the three huge packets: an event, a measurement of random bytes, a retained alarm. */
  hugeBytes: number
  /** How long to wait for a PUBACK or the close once the packet is written. */
  answerTimeoutMs: number
}

export type PacketOutcome = 'acknowledged' | 'closed' | 'no answer'

export interface PacketResult {
  topic: string
  /** The PUBLISH payload's size. */
  bytes: number
  retain: boolean
  outcome: PacketOutcome
  /** Bytes of the PUBLISH packet the core's socket took before the PUBACK, the close or the timeout. */
  written: number
  /** Packet size: fixed header, topic, packet id and payload. */
  packetBytes: number
  /** From the first byte written to the outcome. */
  seconds: number
}

export interface PacketsResult {
  packets: PacketResult[]
  idleRss: number
  /** VmHWM of the core at the end: its peak resident memory over the phase. */
  peakRss: number
  rssAfter: number
  health: HealthSummary
  after: Answers
  alive: boolean
  dataDirBytes: number
  /** What the API shows of `device/big//` afterwards; undefined where it did not answer. */
  stored: { twinKeys?: number; events?: number; alarms?: number }
}

const CHUNK = 1024 * 1024

/** The payload in chunks: `prefix`, filler, `suffix`, `bytes` in all; one filler buffer reused. */
function* payloadChunks(bytes: number, prefix: string, suffix: string, filler: Buffer): Generator<Buffer> {
  const head = Buffer.from(prefix)
  const tail = Buffer.from(suffix)
  yield head
  let left = bytes - head.length - tail.length
  while (left > 0) {
    const size = Math.min(left, filler.length)
    yield filler.subarray(0, size)
    left -= size
  }
  yield tail
}

interface RawPublish {
  topic: string
  bytes: number
  retain: boolean
  prefix: string
  suffix: string
  filler: Buffer
}

/** Connects, sends one QoS 1 PUBLISH (packet id 1) in chunks, and waits for what the core does. */
async function sendRaw(
  url: string,
  clientId: string,
  p: RawPublish,
  timeoutMs: number,
): Promise<PacketResult> {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  socket.setNoDelay(true)
  let received = Buffer.alloc(0)
  let closed = false
  let acked = false
  let settle: () => void = () => {}
  const outcome = new Promise<void>((resolve) => {
    settle = resolve
  })
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    // After the CONNACK (4 bytes) only a PUBACK can come: 0x40, length 2, packet id 1.
    if (received.length >= 8 && received.subarray(4, 8).equals(Buffer.from([0x40, 2, 0, 1]))) {
      acked = true
      settle()
    }
  })
  socket.on('close', () => {
    closed = true
    settle()
  })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(connect({ clientId }))
  const deadline = performance.now() + 10_000
  while (received.length < 4 && !closed && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 5))
  if (received[0] !== 0x20 || received[3] !== 0) {
    socket.destroy()
    throw new Error(`no CONNACK for ${clientId}: ${received.subarray(0, 4).toString('hex') || 'nothing'}`)
  }
  const connectBytes = socket.bytesWritten
  const variableHeader = Buffer.concat([field(p.topic), Buffer.from([0, 1])])
  const remaining = variableHeader.length + p.bytes
  const header = Buffer.concat([
    Buffer.from([0x30 | (1 << 1) | (p.retain ? 1 : 0)]),
    remainingLength(remaining),
    variableHeader,
  ])
  const packetBytes = header.length + p.bytes
  const started = performance.now()
  for (const chunk of [header, ...payloadChunks(p.bytes, p.prefix, p.suffix, p.filler)]) {
    if (closed || acked) break
    // Not events.once: it rejects on the 'error' of a reset, which is an outcome here, not a failure.
    if (!socket.write(chunk))
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), outcome])
  }
  const timer = setTimeout(settle, timeoutMs)
  await outcome
  clearTimeout(timer)
  const result: PacketResult = {
    topic: p.topic,
    bytes: p.bytes,
    retain: p.retain,
    outcome: acked ? 'acknowledged' : closed ? 'closed' : 'no answer',
    written: socket.bytesWritten - connectBytes,
    packetBytes,
    seconds: (performance.now() - started) / 1000,
  }
  socket.destroy()
  return result
}

const BIG = encodeURIComponent('device/big//')

/** A list's length or a twin's keys; none when the entity was never registered (404); undefined otherwise. */
async function count(api: Api, pathname: string, of: (body: unknown) => number): Promise<number | undefined> {
  try {
    return of(await api.get<unknown>(pathname, 5_000))
  } catch (error) {
    return /: 404 /.test((error as Error).message) ? 0 : undefined
  }
}

function dirBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) total += dirBytes(file)
    else if (entry.isFile()) total += statSync(file).size
  }
  return total
}

export async function hugePackets(config: PacketsConfig): Promise<PacketsResult> {
  const dataDir = tempDir('abuse-packets')
  const core = await spawnCore(dataDir)
  try {
    const idle = await idleRss(core.pid)
    const stopHealth = watchHealth(core.ready, 200)
    const letters = Buffer.alloc(CHUNK, 'a')
    const noise = randomBytes(CHUNK)
    const plan: RawPublish[] = [
      ...config.twinBytes.map((bytes, i) => ({
        topic: `te/device/big///twin/blob${i + 1}`,
        bytes,
        retain: true,
        prefix: '{"blob":"',
        suffix: '"}',
        filler: letters,
      })),
      {
        topic: 'te/device/big///e/huge',
        bytes: config.hugeBytes,
        retain: false,
        prefix: '{"text":"',
        suffix: '"}',
        filler: letters,
      },
      {
        topic: 'te/device/big///m/huge',
        bytes: config.hugeBytes,
        retain: false,
        prefix: '',
        suffix: '',
        filler: noise,
      },
      {
        topic: 'te/device/big///a/huge',
        bytes: config.hugeBytes,
        retain: true,
        prefix: '{"severity":"major","text":"',
        suffix: '"}',
        filler: letters,
      },
    ]
    const packets: PacketResult[] = []
    for (const [i, p] of plan.entries())
      packets.push(await sendRaw(core.ready.mqtt, `bench-huge-${i}`, p, config.answerTimeoutMs))
    const health = await stopHealth()
    const api = new Api(core.ready)
    const alive = core.process.exitCode === null && core.process.signalCode === null
    const after = await answers(core.ready)
    const memory = alive ? memoryOf(core.pid) : { rss: 0, peak: 0 }
    return {
      packets,
      idleRss: idle,
      peakRss: memory.peak,
      rssAfter: memory.rss,
      health,
      after,
      alive,
      dataDirBytes: dirBytes(dataDir),
      stored: {
        twinKeys: await count(
          api,
          `/api/v1/entities/${BIG}`,
          (e) => Object.keys((e as EntityDetail).twin).length,
        ),
        events: await count(api, `/api/v1/events?entity=${BIG}`, (list) => (list as unknown[]).length),
        alarms: await count(api, `/api/v1/alarms?entity=${BIG}`, (list) => (list as unknown[]).length),
      },
    }
  } finally {
    await core.stop()
    removeDir(dataDir)
  }
}
