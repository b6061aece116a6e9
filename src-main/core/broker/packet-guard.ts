import type { Duplex } from 'node:stream'
import { utf8StringError } from './mqtt-strings'

const CONNECT = 1
const PUBLISH = 3
const SUBSCRIBE = 8
const UNSUBSCRIBE = 10

export interface PacketGuardLimits {
  /** Largest packet, fixed header included, in bytes. */
  maxPacketSize: number
  /** Most topic filters in one SUBSCRIBE. */
  maxFilters: number
}

/** Why a connection must close: the packet's size, a protocol rule, or more filters than a client may hold. */
export interface Violation {
  kind: 'packet size' | 'protocol' | 'subscriptions'
  reason: string
}

const protocol = (reason: string): Violation => ({ kind: 'protocol', reason })

enum Stage {
  Type,
  Length,
  Head,
  Body,
}

/**
 * Reads the MQTT byte stream of one connection ahead of aedes' parser and says why the connection
 * must close, if it must.
 *
 * mqtt-packet's parser buffers a whole packet before handing it over, so a 200 MB PUBLISH was held
 * in memory before anything could look at it. This reads each fixed header as it arrives and refuses
 * a packet whose Remaining Length is over the limit at once. It also reads, as they came on the wire,
 * the strings aedes' parser would decode with replacement characters (topic names and filters, the
 * client id, will topic and user name) and the packet identifiers, for the rules a server MUST
 * enforce by closing the connection. Only those first bytes are kept: a PUBLISH's topic and packet
 * identifier, or a whole CONNECT, SUBSCRIBE or UNSUBSCRIBE (all within the size limit).
 */
export class PacketScanner {
  private stage = Stage.Type
  private type = 0
  private flags = 0
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  /** Bytes of the current packet's variable header and payload not read yet. */
  private remaining = 0
  private head: Buffer[] = []
  private headSize = 0
  private need = 0

  constructor(private readonly limits: PacketGuardLimits) {}

  /** Reads the next chunk of the stream; returns why the connection must close, or undefined. */
  scan(chunk: Buffer): Violation | undefined {
    let i = 0
    while (i < chunk.length) {
      if (this.stage === Stage.Type) {
        const byte = chunk[i++] as number
        this.type = byte >> 4
        this.flags = byte & 0x0f
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
        this.stage = Stage.Length
      } else if (this.stage === Stage.Length) {
        const byte = chunk[i++] as number
        this.length += (byte & 0x7f) * this.multiplier
        this.multiplier *= 128
        this.lengthBytes++
        if (byte & 0x80) {
          // [MQTT-2.2.3]: the Remaining Length takes at most four bytes.
          if (this.lengthBytes === 4) return protocol('malformed Remaining Length (more than four bytes)')
          continue
        }
        const size = 1 + this.lengthBytes + this.length
        if (size > this.limits.maxPacketSize) {
          const reason = `packet of ${size} bytes is over the limit of ${this.limits.maxPacketSize} bytes`
          return { kind: 'packet size', reason }
        }
        this.remaining = this.length
        this.begin(this.firstNeed())
      } else if (this.stage === Stage.Head) {
        // Most PUBLISH packets arrive with their topic in one chunk: looked at in place, nothing copied.
        if (this.type === PUBLISH && this.headSize === 0) {
          const available = Math.min(chunk.length - i, this.remaining)
          const verdict = this.inspectPublish(chunk, i, i + available)
          if (typeof verdict !== 'number') return verdict
          if (verdict <= available) {
            this.remaining -= available
            i += available
            this.stage = this.remaining > 0 ? Stage.Body : Stage.Type
            continue
          }
        }
        const take = Math.min(this.need - this.headSize, chunk.length - i)
        this.head.push(chunk.subarray(i, i + take))
        this.headSize += take
        this.remaining -= take
        i += take
        if (this.headSize < this.need) continue
        const head = this.head.length === 1 ? (this.head[0] as Buffer) : Buffer.concat(this.head)
        const verdict = this.inspect(head)
        if (typeof verdict !== 'number') return verdict
        if (verdict > this.need) {
          this.head = [head]
          this.need = verdict
        } else {
          this.head = []
          this.headSize = 0
          this.stage = this.remaining > 0 ? Stage.Body : Stage.Type
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i)
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.stage = Stage.Type
      }
    }
    return undefined
  }

  private begin(need: number): void {
    this.need = need
    this.head = []
    this.headSize = 0
    this.stage = need > 0 ? Stage.Head : this.remaining > 0 ? Stage.Body : Stage.Type
  }

  /** How many bytes of the packet to read before looking at it (0: none). */
  private firstNeed(): number {
    switch (this.type) {
      case PUBLISH:
        // The topic's length first; what the packet holds beyond its topic is not looked at.
        return Math.min(2, this.length)
      case CONNECT:
      case SUBSCRIBE:
      case UNSUBSCRIBE:
        return this.length
      default:
        return 0
    }
  }

  /**
   * Looks at the first `head.length` bytes of the packet: a reason to close, or how many bytes it
   * needs (no more than it has: done). A malformed packet is left to aedes' parser, which refuses it.
   */
  private inspect(head: Buffer): Violation | number {
    switch (this.type) {
      case PUBLISH:
        return this.inspectPublish(head, 0, head.length)
      case CONNECT:
        return inspectConnect(head) ?? 0
      default:
        return inspectSubscribe(head, this.type === SUBSCRIBE, this.limits.maxFilters) ?? 0
    }
  }

  /** inspect() of a PUBLISH whose first bytes are `bytes[start, end)`. */
  private inspectPublish(bytes: Buffer, start: number, end: number): Violation | number {
    if (end - start < 2) return this.length < 2 ? 0 : 2
    const qos = (this.flags >> 1) & 3
    const topicEnd = 2 + bytes.readUInt16BE(start)
    const whole = topicEnd + (qos > 0 ? 2 : 0)
    if (whole > this.length) return 0
    if (end - start < whole) return whole
    const error = utf8StringError(bytes, start + 2, start + topicEnd)
    if (error) return protocol(`topic name: ${error}`)
    // [MQTT-2.3.1-1]: a PUBLISH with QoS > 0 MUST carry a non-zero packet identifier.
    if (qos > 0 && bytes.readUInt16BE(start + topicEnd) === 0)
      return protocol(`QoS ${qos} PUBLISH with packet identifier 0 [MQTT-2.3.1-1]`)
    return 0
  }
}

/** Reads a length-prefixed string or binary field at `at`: its bounds, or undefined past the end. */
function field(packet: Buffer, at: number): { start: number; end: number } | undefined {
  if (at + 2 > packet.length) return undefined
  const start = at + 2
  const end = start + packet.readUInt16BE(at)
  return end > packet.length ? undefined : { start, end }
}

function inspectConnect(packet: Buffer): Violation | undefined {
  const name = field(packet, 0)
  if (!name || name.end + 4 > packet.length) return undefined
  const level = packet[name.end] as number
  // MQTT 5 puts properties before the payload; aedes refuses that protocol level with its CONNACK anyway.
  if (level !== 3 && level !== 4) return undefined
  const flags = packet[name.end + 1] as number
  const fields: Array<[string, 'string' | 'binary']> = [['client id', 'string']]
  if (flags & 0x04) fields.push(['will topic', 'string'], ['will message', 'binary'])
  if (flags & 0x80) fields.push(['user name', 'string'])
  let at = name.end + 4
  for (const [what, kind] of fields) {
    const bounds = field(packet, at)
    if (!bounds) return undefined
    if (kind === 'string') {
      const error = utf8StringError(packet, bounds.start, bounds.end)
      if (error) return protocol(`${what}: ${error}`)
    }
    at = bounds.end
  }
  return undefined
}

function inspectSubscribe(packet: Buffer, subscribe: boolean, maxFilters: number): Violation | undefined {
  if (packet.length < 2) return undefined
  // [MQTT-2.3.1-1]: SUBSCRIBE and UNSUBSCRIBE MUST carry a non-zero packet identifier.
  if (packet.readUInt16BE(0) === 0)
    return protocol(`${subscribe ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} with packet identifier 0 [MQTT-2.3.1-1]`)
  let at = 2
  let filters = 0
  while (at < packet.length) {
    const bounds = field(packet, at)
    if (!bounds) return undefined
    const error = utf8StringError(packet, bounds.start, bounds.end)
    if (error) return protocol(`topic filter: ${error}`)
    at = bounds.end + (subscribe ? 1 : 0)
    // aedes stores a persistent session's whole filter list once per filter it grants: a SUBSCRIBE with
    // more filters than a client may hold would cost their square in writes.
    if (subscribe && ++filters > maxFilters)
      return {
        kind: 'subscriptions',
        reason: `SUBSCRIBE with more than ${maxFilters} topic filters (the most one client may hold)`,
      }
  }
  return undefined
}

/**
 * Puts a PacketScanner between a connection and aedes: aedes reads the socket with `read()` when it
 * is readable (lib/client.js), so every chunk is scanned before aedes' parser sees it, and a chunk
 * that breaks a rule is never handed over: the connection is destroyed and `onViolation` told why.
 */
export function guardStream(
  stream: Duplex,
  limits: PacketGuardLimits,
  onViolation: (violation: Violation) => void,
): void {
  const scanner = new PacketScanner(limits)
  const read = stream.read.bind(stream)
  stream.read = (size?: number) => {
    const chunk = read(size) as Buffer | null
    if (chunk === null || stream.destroyed) return chunk
    const violation = scanner.scan(chunk)
    if (violation === undefined) return chunk
    onViolation(violation)
    stream.destroy()
    return null
  }
}
