import type { MqttClient } from 'mqtt'
import type { Prng } from '../../../src-main/core/sim/prng'

// Random and malformed MQTT input for the fuzz tests: topics around the te/ grammar (known words,
// empty and unicode levels, very long and very deep topics) and payloads (random bytes, invalid UTF-8,
// broken, deep and huge JSON, registrations, commands, wrong types).

export interface Message {
  topic: string
  payload: string | Buffer
  qos: 0 | 1
  retain: boolean
}

// Segments that hit the grammar (known words, empty, unicode) plus random text. Never "fuzz01" or
// "edgetwin": the fuzz must not touch the entity whose valid data is counted, nor the core's service.
// Split on '|': the list has empty and blank segments on purpose.
export const WORDS = (
  'device|main|service|child|m|e|a|twin|cmd|status|health|signal|config|meta|errors|restart|check|TE|||' +
  ' |..|$SYS|é|温度|😀|\u200b|\u202e|a-b_c.d|%2F'
).split('|')
export const CHARS = [...'abcxyz019-_. é温😀\u00a0\u2028$%&*()[]{}"\'\\']

export function text(r: Prng, max: number): string {
  const length = r.int(0, max)
  let out = ''
  for (let i = 0; i < length; i++) out += pick(r, CHARS)
  return out
}

export const pick = <T>(r: Prng, items: readonly T[]): T => items[r.int(0, items.length - 1)] as T
export const segment = (r: Prng) => (r.chance(0.6) ? pick(r, WORDS) : text(r, 10))
export const segments = (r: Prng, n: number) => Array.from({ length: n }, () => segment(r)).join('/')

/** Channel parts after the entity id: valid ones, wrong segment counts, unknown channels. */
export const CHANNELS = (
  '|m|m/|m/env|m/env/meta|m/x/y|m/x/meta/z|e|e/door|e/x/meta|a|a/over|a/over/meta|twin|twin/|twin/a/b|' +
  'twin/@id|twin/name|config|config/x|cmd|cmd/|cmd/restart|cmd/restart/|cmd/restart/c1|cmd/health/check|' +
  'cmd/a/b/c|status|status/health|status/x|signal|signal/sync|unknown|unknown/x/y|///'
).split('|')

export function topic(r: Prng): string {
  const shape = r.int(0, 9)
  if (shape <= 3) return `te/${segments(r, 4)}/${pick(r, CHANNELS)}`.replace(/\/$/, r.chance(0.5) ? '/' : '')
  if (shape === 4) return `te/${segments(r, r.int(0, 12))}`
  if (shape === 5) return `te/${segments(r, r.int(20, 95))}`
  if (shape === 6) return `te/${'x'.repeat(r.int(1000, 60000))}`
  if (shape === 7)
    return pick(r, ['te', 'te/', 'te//', 'te/////', 'te/errors', 'tee/x', 'TE/device/main//', '/te/x', 'foo'])
  if (shape === 8)
    return `te/device/${segment(r)}/${pick(r, ['', 'service'])}/${segment(r)}/${pick(r, CHANNELS)}`
  return `te/${pick(r, ['device/main//', 'device/main/service/x', 'device/c1//', 'plant/line/cell/x'])}/${pick(r, CHANNELS)}`
}

export const nested = (depth: number, open: string, inner: string, close: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`

export function json(r: Prng, depth = 0): unknown {
  switch (r.int(0, depth > 2 ? 5 : 7)) {
    case 0:
      return r.chance(0.5) ? r.between(-1e6, 1e6) : r.int(-5, 5)
    case 1:
      return text(r, 8)
    case 2:
      return r.chance(0.5)
    case 3:
      return null
    case 4:
      return r.chance(0.5) ? 1e308 : -0
    case 5:
      return ''
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => json(r, depth + 1))
    default:
      return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [segment(r), json(r, depth + 1)]))
  }
}

export function registration(r: Prng): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (r.chance(0.8)) body['@type'] = r.chance(0.7) ? pick(r, ['child-device', 'service', 'device']) : json(r)
  if (r.chance(0.5)) body['@parent'] = r.chance(0.7) ? segments(r, r.int(1, 6)) : json(r)
  if (r.chance(0.3)) body['@id'] = r.chance(0.5) ? text(r, 10) : json(r)
  if (r.chance(0.3)) body['@health'] = r.chance(0.5) ? segments(r, r.int(1, 5)) : json(r)
  // Keys that become twin topics when the registration is applied: slashes, wildcards, empty, '@'.
  for (let i = r.int(0, 4); i > 0; i--)
    body[pick(r, ['name', 'a/b', '#', '+', '', '@x', 'type', segment(r)])] = json(r)
  return body
}

export function payload(r: Prng): string | Buffer {
  switch (r.int(0, 16)) {
    case 0:
      return Buffer.from(Array.from({ length: r.int(1, 64) }, () => r.int(0, 255)))
    case 1:
      // Invalid UTF-8 inside otherwise valid JSON.
      return Buffer.concat([
        Buffer.from('{"temperature":1,"x":"'),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from('"}'),
      ])
    case 2:
      return text(r, 40)
    case 3: {
      const whole = JSON.stringify({
        temperature: r.between(0, 100),
        time: '2024-01-01T00:00:00Z',
        g: { a: 1 },
      })
      return whole.slice(0, r.int(0, whole.length - 1))
    }
    case 4:
      return r.chance(0.5)
        ? nested(10_000, '[', '1', ']')
        : nested(10_000, '{"a":', r.chance(0.5) ? '1' : '{', '}')
    case 5:
      return pick(r, [
        '1e999',
        '-1e999',
        '{"t":1e999}',
        '{"t":-1e999}',
        `{"t":${'9'.repeat(400)}}`,
        `${'1'.repeat(400)}`,
      ])
    case 6:
      return pick(r, [
        '[]',
        '[1,2,3]',
        'true',
        'false',
        'null',
        '"text"',
        '0',
        '1',
        '{}',
        '""',
        ' ',
        '\u0000',
      ])
    case 7:
      return JSON.stringify(
        pick(r, [
          { temperature: 'hot' },
          { time: 'yesterday', temperature: 1 },
          { time: -5, t: 1 },
          { time: 1e20, t: 1 },
          { time: '2021-02-30T00:00:00Z', t: 1 },
          { a: { b: { c: 1 } } },
          { a: {} },
          { type: 5, t: 1 },
          { properties: 'x', t: 1 },
          { text: 7 },
          { severity: ['x'], text: 'x' },
          { status: 5 },
        ]),
      )
    case 8:
    case 9:
      return JSON.stringify(registration(r))
    case 10:
      return ''
    case 11:
    case 12:
      return JSON.stringify(json(r))
    case 13:
      return JSON.stringify({
        [segment(r)]: r.between(-1e3, 1e3),
        time: r.chance(0.5) ? r.between(0, 2e9) : undefined,
      })
    default:
      return JSON.stringify(
        Object.fromEntries(Array.from({ length: r.int(1, 5) }, () => [segment(r), json(r)])),
      )
  }
}

export function megabyte(r: Prng, index: number): string | Buffer {
  const size = 1024 * 1024
  switch (index % 4) {
    case 0:
      return Buffer.from(Array.from({ length: size }, () => r.int(0, 255)))
    case 1:
      return JSON.stringify({ text: 'x'.repeat(size) })
    case 2:
      return `{"temperature":${'1'.repeat(size)}}`
    default:
      return nested(size / 6, '{"a":', '1', '}').slice(0, size)
  }
}

/** Sends messages in windows of `windowSize` (bounds memory and in-flight state); rejects if the client is disconnected meanwhile (a finding, not an MQTT rule). */
export async function sendAll(
  client: MqttClient,
  messages: Message[],
  what: string,
  windowSize = 200,
): Promise<number> {
  let acked = 0
  const closed = new Promise<never>((_, reject) =>
    client.once('close', () => reject(new Error(`${what} client was disconnected after ${acked} messages`))),
  )
  closed.catch(() => {})
  for (let start = 0; start < messages.length; start += windowSize) {
    const window = messages.slice(start, start + windowSize)
    await Promise.race([
      closed,
      Promise.all(
        window.map((m) => client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain })),
      ),
    ])
    acked += window.length
  }
  return acked
}
