import mqttPacket from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { utf8StringError } from '../../../src-main/core/broker/mqtt-strings'
import { PacketScanner } from '../../../src-main/core/broker/packet-guard'
import { createPrng } from '../../../src-main/core/sim/prng'
import { connect, publish, publishHead, subscribe } from '../../helpers/raw-mqtt'

const limits = { maxPacketSize: 4096, maxFilters: 5 }

/** Scans `bytes` cut into chunks of `size` (the last one shorter): the first violation, if any. */
function scanInChunks(bytes: Buffer, size: number) {
  const scanner = new PacketScanner(limits)
  for (let at = 0; at < bytes.length; at += size) {
    const violation = scanner.scan(bytes.subarray(at, at + size))
    if (violation) return { ...violation, at }
  }
  return undefined
}

const pick = <T>(r: ReturnType<typeof createPrng>, items: readonly T[]): T =>
  items[r.int(0, items.length - 1)] as T

const generate = (packet: object) => mqttPacket.generate(packet as mqttPacket.Packet)

const VALID = Buffer.concat([
  connect({
    clientId: 'ok-é',
    will: { topic: 'te/device/a//', payload: Buffer.from('') },
    username: 'u',
    password: 'p',
  }),
  generate({
    cmd: 'publish',
    topic: 'te/device/a///m/env',
    payload: Buffer.from('{"t":1}'),
    qos: 1,
    messageId: 1,
  }),
  generate({ cmd: 'publish', topic: 'te/温度/😀', payload: Buffer.alloc(3000, 1), qos: 0 }),
  generate({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 2, messageId: 65535, retain: true }),
  generate({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'te/#', qos: 1 }] }),
  generate({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['te/#', 'x/+'] }),
  generate({ cmd: 'pingreq' }),
  generate({ cmd: 'puback', messageId: 9 }),
  // A Remaining Length of 128 takes two bytes.
  generate({ cmd: 'publish', topic: 'b', payload: Buffer.alloc(125), qos: 0 }),
  generate({ cmd: 'disconnect' }),
])

describe('PacketScanner', () => {
  it.each([1, 2, 3, 7, 64, 100_000])('passes valid packets cut into chunks of %i bytes', (size) => {
    expect(scanInChunks(VALID, size)).toBeUndefined()
  })

  it.each([1, 3, 1000])(
    'refuses a packet over the size limit at its fixed header, in chunks of %i bytes',
    (size) => {
      const huge = Buffer.concat([
        VALID,
        publishHead('te/x', 200 * 1024 * 1024, { qos: 1 }),
        Buffer.alloc(8192),
      ])
      const violation = scanInChunks(huge, size)
      expect(violation?.kind).toBe('packet size')
      expect(violation?.reason).toBe(
        `packet of ${200 * 1024 * 1024 + 13} bytes is over the limit of 4096 bytes`,
      )
      // Found within the header: nothing of the payload was needed.
      expect(violation?.at).toBeLessThan(VALID.length + 5)
    },
  )

  it.each([
    [
      'a topic with U+0000',
      publish(Buffer.from('te/a\u0000b'), 'x'),
      'topic name: U+0000 in a string [MQTT-1.5.3-2]',
    ],
    [
      'packet identifier 0',
      publish('te/a', 'x', { qos: 1, id: 0 }),
      'QoS 1 PUBLISH with packet identifier 0 [MQTT-2.3.1-1]',
    ],
    [
      'a SUBSCRIBE with identifier 0',
      subscribe(['a'], 0),
      'SUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]',
    ],
    [
      'a filter with U+0085',
      subscribe(['a', 'b\u0085']),
      'topic filter: control character U+0085 in a string (MQTT 3.1.1 §1.5.3)',
    ],
    [
      'a client id with U+FFFF',
      connect({ clientId: 'a\uffff' }),
      'client id: non-character U+FFFF in a string (MQTT 3.1.1 §1.5.3)',
    ],
    [
      'five length bytes',
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'malformed Remaining Length (more than four bytes)',
    ],
  ])('refuses %s after valid packets, however it is cut', (_, bad, reason) => {
    for (const size of [1, 2, 5, 4096]) {
      const violation = scanInChunks(Buffer.concat([VALID, bad]), size)
      expect(violation, `chunks of ${size}`).toEqual({ kind: 'protocol', reason, at: expect.any(Number) })
    }
  })

  it('refuses a SUBSCRIBE with more filters than a client may hold', () => {
    expect(scanInChunks(subscribe(['a', 'b', 'c', 'd', 'e']), 3)).toBeUndefined()
    expect(scanInChunks(subscribe(['a', 'b', 'c', 'd', 'e', 'f']), 3)).toMatchObject({
      kind: 'subscriptions',
    })
  })
})

describe('utf8StringError', () => {
  const check = (...bytes: number[]) => {
    const buffer = Buffer.from(bytes)
    return utf8StringError(buffer, 0, buffer.length)
  }

  it('accepts well-formed text, U+FEFF, U+FFFD and the last code point', () => {
    const text = Buffer.from('te/device/é温😀\u00a0\ufeff\ufffd\u{10fffd}')
    expect(utf8StringError(text, 0, text.length)).toBeUndefined()
  })

  it('finds the same in long strings, which it checks natively first', () => {
    const long = (...bytes: number[]) => {
      const buffer = Buffer.concat([Buffer.alloc(100, 0x61), Buffer.from(bytes), Buffer.from('é温😀')])
      return utf8StringError(buffer, 0, buffer.length)
    }
    expect(long()).toBeUndefined()
    expect(long(0xef, 0xbb, 0xbf)).toBeUndefined()
    expect(long(0xc2, 0x9f)).toBe('control character U+009F in a string (MQTT 3.1.1 §1.5.3)')
    expect(long(0xf3, 0xbf, 0xbf, 0xbf)).toBe('non-character U+FFFFF in a string (MQTT 3.1.1 §1.5.3)')
    expect(long(0xf4, 0x8f, 0xbf, 0xbe)).toBe('non-character U+10FFFE in a string (MQTT 3.1.1 §1.5.3)')
    expect(long(0xf0, 0x9f, 0xbf, 0xbd)).toBeUndefined()
    expect(long(0x00)).toBe('U+0000 in a string [MQTT-1.5.3-2]')
    expect(long(0xed, 0xa0, 0x80)).toBe('UTF-16 surrogate U+D800 encoded in UTF-8 [MQTT-1.5.3-1]')
  })

  it('refuses a long string exactly when it holds a code point §1.5.3 lets it refuse', () => {
    const refused = (c: number) =>
      c === 0 ||
      c <= 0x1f ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xfdd0 && c <= 0xfdef) ||
      (c & 0xfffe) === 0xfffe
    const r = createPrng(0xc0de)
    const interesting = [
      0, 0x1f, 0x20, 0x7e, 0x7f, 0x9f, 0xa0, 0xfdcf, 0xfdd0, 0xfdef, 0xfdf0, 0xfffd, 0xfffe, 0xffff,
    ]
    for (let i = 0; i < 5000; i++) {
      const points = Array.from({ length: r.int(70, 120) }, () => {
        if (r.chance(0.97)) return r.int(0x61, 0x7a)
        if (r.chance(0.5)) return pick(r, interesting)
        const plane = r.int(1, 16) * 0x10000
        return plane + pick(r, [0xfffd, 0xfffe, 0xffff, 0x1234])
      })
      const bytes = Buffer.from(String.fromCodePoint(...points))
      expect(utf8StringError(bytes, 0, bytes.length) === undefined).toBe(!points.some(refused))
    }
  })

  it('names what it refuses', () => {
    expect(check(0xc0, 0xaf)).toBe('ill-formed UTF-8 [MQTT-1.5.3-1]')
    expect(check(0xe0, 0x80, 0xaf)).toBe('ill-formed UTF-8 (overlong or out of range) [MQTT-1.5.3-1]')
    expect(check(0xed, 0xbf, 0xbf)).toBe('UTF-16 surrogate U+DFFF encoded in UTF-8 [MQTT-1.5.3-1]')
    expect(check(0x61, 0x00)).toBe('U+0000 in a string [MQTT-1.5.3-2]')
    expect(check(0x7f)).toBe('control character U+007F in a string (MQTT 3.1.1 §1.5.3)')
    expect(check(0xef, 0xb7, 0xaf)).toBe('non-character U+FDEF in a string (MQTT 3.1.1 §1.5.3)')
  })

  it('refuses what a strict decoder refuses, and calls nothing it accepts ill-formed, on random bytes', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    const r = createPrng(0x7e57)
    for (let i = 0; i < 20_000; i++) {
      // Mostly continuation and lead bytes, so every kind of sequence comes up.
      // Short ones take the byte loop, long ones the native check first.
      const bytes = Buffer.from(
        Array.from({ length: r.chance(0.5) ? r.int(1, 6) : r.int(65, 90) }, () =>
          r.chance(r.chance(0.5) ? 0.2 : 0.97) ? r.int(0x20, 0x7e) : r.int(0x80, 0xff),
        ),
      )
      let wellFormed = true
      try {
        decoder.decode(bytes)
      } catch {
        wellFormed = false
      }
      // The first problem is named: a control character may come before the ill-formed sequence.
      const error = utf8StringError(bytes, 0, bytes.length)
      if (wellFormed) expect(error ?? '', bytes.toString('hex')).not.toContain('[MQTT-1.5.3-1]')
      else expect(error, bytes.toString('hex')).toBeDefined()
    }
  })
})
