// Validation of thin-edge.io telemetry payloads (reference §2). Every function returns either the
// parsed value or a reason; nothing here throws past its caller.
import { isUtf8 } from 'node:buffer'

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string }

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason })

export type JsonObject = { [key: string]: unknown }

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Deepest nesting of arrays and objects accepted: serde_json's recursion limit, which thin-edge.io
 * applies to every payload. Deeper values parse, but JSON.stringify (store, API) overflows the stack.
 */
export const MAX_JSON_DEPTH = 128

/** True when the JSON text nests arrays or objects deeper than `max` (brackets in strings ignored). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/** Decodes strict UTF-8 and parses JSON nested at most MAX_JSON_DEPTH levels. */
export function parseJson(payload: Uint8Array): Parsed<unknown> {
  // Validate, then decode: Node's native check is cheaper than a fatal TextDecoder on the hot path.
  if (!isUtf8(payload)) return fail('payload is not valid UTF-8')
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
  // Nesting deeper than the limit needs more than two characters per level: short payloads skip the scan.
  if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return fail(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`)
  }
  try {
    return ok(JSON.parse(text))
  } catch (error) {
    return fail(`invalid JSON: ${(error as Error).message}`)
  }
}

export function parseJsonObject(payload: Uint8Array): Parsed<JsonObject> {
  const parsed = parseJson(payload)
  if (!parsed.ok) return parsed
  if (!isObject(parsed.value)) return fail('payload must be a JSON object')
  return ok(parsed.value)
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** `time` is an RFC 3339 string or unix seconds (integer or fractional); returns epoch ms. */
export function parseTime(value: unknown): Parsed<number> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > 253402300799)
      return fail(`time ${value} is out of range`)
    return ok(value * 1000)
  }
  if (typeof value !== 'string') return fail('time must be an RFC 3339 string or unix seconds')
  const m = RFC3339.exec(value)
  if (!m) return fail(`time "${value}" is not RFC 3339`)
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m
  const whole = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone === 'z' ? 'Z' : zone}`)
  // Date.parse rolls 2021-02-30 over to March; a round trip of the fields catches that.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
  if (
    Number.isNaN(whole) ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return fail(`time "${value}" is not a valid date`)
  }
  return ok(whole + (fraction ? Number(`0${fraction}`) * 1000 : 0))
}

export interface Measurement {
  type: string
  /** epoch ms, or undefined when the payload has no `time` (the receiver stamps it). */
  time: number | undefined
  /** Series names (`temperature`, or `group.series` for one nesting level), and their values. */
  names: string[]
  values: number[]
  properties?: JsonObject
}

/**
 * thin-edge.io measurement rules: numbers, one group level, `time` reserved, `type` overrides the
 * topic type, `properties` passed through. Rejects arrays, booleans, strings, empty groups, deeper
 * nesting, non-finite numbers and payloads with no value (fixtures tedge_api/tests/fixtures/invalid).
 */
export function parseMeasurement(payload: Uint8Array, topicType: string): Parsed<Measurement> {
  const parsed = parseJsonObject(payload)
  if (!parsed.ok) return parsed
  const body = parsed.value
  let type = topicType
  let time: number | undefined
  let properties: JsonObject | undefined
  const names: string[] = []
  const values: number[] = []
  // for…in over a freshly parsed object: no inherited keys, and no entry arrays on the hot path.
  for (const key in body) {
    const value = body[key]
    if (key === 'time') {
      const t = parseTime(value)
      if (!t.ok) return t
      time = t.value
    } else if (key === 'type') {
      if (typeof value !== 'string') return fail('"type" must be a string')
      type = value
    } else if (key === 'properties') {
      if (!isObject(value)) return fail('"properties" must be an object')
      properties = value
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return fail(`"${key}" is not a finite number`)
      names.push(key)
      values.push(value)
    } else if (isObject(value)) {
      const before = names.length
      for (const name in value) {
        const inner = value[name]
        if (typeof inner !== 'number') {
          return fail(
            isObject(inner)
              ? `"${key}.${name}" nests deeper than one group level`
              : `"${key}.${name}" must be a number`,
          )
        }
        if (!Number.isFinite(inner)) return fail(`"${key}.${name}" is not a finite number`)
        names.push(`${key}.${name}`)
        values.push(inner)
      }
      if (names.length === before) return fail(`group "${key}" is empty`)
    } else {
      return fail(`"${key}" must be a number or a group of numbers`)
    }
  }
  if (values.length === 0) return fail('measurement has no value')
  return ok(properties ? { type, time, names, values, properties } : { type, time, names, values })
}

export interface EventData {
  type: string
  time: number | undefined
  text: string
  payload: JsonObject
}

/** Events: `text` (defaults to the type), optional `time`, `type` override, any other fragment. */
export function parseEvent(payload: Uint8Array, topicType: string): Parsed<EventData> {
  if (payload.length === 0) return ok({ type: topicType, time: undefined, text: topicType, payload: {} })
  const parsed = parseJsonObject(payload)
  if (!parsed.ok) return parsed
  return parseStateful(parsed.value, topicType)
}

function parseStateful(body: JsonObject, topicType: string): Parsed<EventData> {
  let time: number | undefined
  if (body.time !== undefined) {
    const t = parseTime(body.time)
    if (!t.ok) return t
    time = t.value
  }
  if (body.text !== undefined && typeof body.text !== 'string') return fail('"text" must be a string')
  if (body.type !== undefined && typeof body.type !== 'string') return fail('"type" must be a string')
  const type = (body.type as string | undefined) ?? topicType
  return ok({ type, time, text: (body.text as string | undefined) ?? type, payload: body })
}

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface AlarmData extends EventData {
  severity: Severity
}

/** Alarms: like events plus `severity`; a missing or unknown severity is `minor`, as Cumulocity maps it. */
export function parseAlarm(payload: Uint8Array, topicType: string): Parsed<AlarmData> {
  const parsed = parseJsonObject(payload)
  if (!parsed.ok) return parsed
  const event = parseStateful(parsed.value, topicType)
  if (!event.ok) return event
  const raw = parsed.value.severity
  const severity =
    SEVERITIES.find((s) => s === (typeof raw === 'string' ? raw.toLowerCase() : raw)) ?? 'minor'
  return ok({ ...event.value, severity })
}

export interface HealthData {
  status: string
  payload: unknown
}

/**
 * Health: `{"status":"up"|"down",…}`; anything else is kept as its own status, a missing one is
 * `unknown`. Mosquitto bridges publish a bare `1`/`0` (reference §2.7).
 */
export function parseHealth(payload: Uint8Array): Parsed<HealthData> {
  const parsed = parseJson(payload)
  if (!parsed.ok) return parsed
  const value = parsed.value
  if (value === 1 || value === 0) return ok({ status: value === 1 ? 'up' : 'down', payload: value })
  if (!isObject(value)) return fail('health must be a JSON object')
  const status = typeof value.status === 'string' && value.status !== '' ? value.status : 'unknown'
  return ok({ status, payload: value })
}

/**
 * Twin fragment keys: non-empty, no `/`, not starting with `@` (reference §1.8, §2.5), and no MQTT
 * wildcard, since the key is a level of the topic name `twin/<key>` [MQTT-4.7.1-1].
 */
export function twinKeyError(key: string): string | undefined {
  if (key === '') return 'twin key must not be empty'
  if (key.includes('/')) return `twin key "${key}" must not contain "/"`
  if (key.includes('+') || key.includes('#')) return `twin key "${key}" must not contain an MQTT wildcard`
  if (key.startsWith('@')) return `twin key "${key}" must not start with "@" (reserved)`
  return undefined
}
