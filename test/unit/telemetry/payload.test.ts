import { describe, expect, it } from 'vitest'
import {
  type Measurement,
  parseAlarm,
  parseEvent,
  parseHealth,
  parseMeasurement,
  parseTime,
  twinKeyError,
} from '../../../src-main/core/telemetry/payload'

const bytes = (text: string) => Buffer.from(text, 'utf8')
const at = (iso: string) => Date.parse(iso)

function valid<T>(result: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!result.ok) throw new Error(`expected a valid payload, got: ${result.reason}`)
  return result.value
}

function reason(result: { ok: true } | { ok: false; reason: string }): string {
  if (result.ok) throw new Error('expected the payload to be rejected')
  return result.reason
}

/** A measurement's series as [name, value] pairs. */
const pairs = (m: Measurement) => m.names.map((name, i) => [name, m.values[i]])

describe('parseMeasurement: the valid examples of reference §2.1, verbatim', () => {
  it('accepts a single value {"temperature": 25}', () => {
    const m = valid(parseMeasurement(bytes('{"temperature": 25}'), 'environment'))
    expect(m).toMatchObject({ type: 'environment', time: undefined })
    expect(pairs(m)).toEqual([['temperature', 25]])
  })

  it('accepts one group level as group.series', () => {
    const m = valid(
      parseMeasurement(bytes('{"three_phase_current": {"L1": 9.5, "L2": 10.3, "L3": 8.8}}'), 'power'),
    )
    expect(pairs(m)).toEqual([
      ['three_phase_current.L1', 9.5],
      ['three_phase_current.L2', 10.3],
      ['three_phase_current.L3', 8.8],
    ])
  })

  it('accepts time, plain values and a group together', () => {
    const payload =
      '{"time": "2020-10-15T05:30:47+00:00", "temperature": 25, "location": {"latitude": 32.54, "longitude": -117.67, "altitude": 98.6}, "pressure": 98}'
    const m = valid(parseMeasurement(bytes(payload), ''))
    expect(m).toMatchObject({ type: '', time: at('2020-10-15T05:30:47Z') })
    expect(pairs(m)).toEqual([
      ['temperature', 25],
      ['location.latitude', 32.54],
      ['location.longitude', -117.67],
      ['location.altitude', 98.6],
      ['pressure', 98],
    ])
  })

  it('passes "properties" through unchanged, whatever it holds', () => {
    const payload =
      '{"time": "2020-10-15T05:30:47+00:00", "temperature": 25, "properties": {"sensor": "DS18B20", "has_alarm": false, "samples": [25.1,25.0,24.9], "range": {"min": "-55°C", "max": "+125°C"}}}'
    const m = valid(parseMeasurement(bytes(payload), 'env'))
    expect(pairs(m)).toEqual([['temperature', 25]])
    expect(m.properties).toEqual({
      sensor: 'DS18B20',
      has_alarm: false,
      samples: [25.1, 25.0, 24.9],
      range: { min: '-55°C', max: '+125°C' },
    })
  })

  it('lets "type" in the payload override the topic type (Robot: CustomType_payload)', () => {
    const m = valid(
      parseMeasurement(bytes('{"type":"CustomType_payload","temperature":1}'), 'CustomType_topic'),
    )
    expect(m.type).toBe('CustomType_payload')
  })

  it('accepts unix seconds for time, integer and fractional (fixture valid/timestamp/unix.json)', () => {
    expect(valid(parseMeasurement(bytes('{"time": 1619802194, "temperature": 25}'), 'x')).time).toBe(
      1619802194000,
    )
    expect(valid(parseMeasurement(bytes('{"time": 1619802194.25, "temperature": 25}'), 'x')).time).toBe(
      1619802194250,
    )
  })

  it('reads RFC 3339 offsets and fractions', () => {
    const time = (t: string) => valid(parseMeasurement(bytes(JSON.stringify({ time: t, v: 1 })), 'x')).time
    expect(time('2020-10-15T07:30:47+02:00')).toBe(at('2020-10-15T05:30:47Z'))
    expect(time('2020-10-15T01:00:47-04:30')).toBe(at('2020-10-15T05:30:47Z'))
    expect(time('2020-10-15T05:30:47Z')).toBe(at('2020-10-15T05:30:47Z'))
    expect(time('2020-10-15T05:30:47.250Z')).toBe(at('2020-10-15T05:30:47.250Z'))
    expect(time('2013-06-22T17:03:14.000658767+02:00')).toBe(at('2013-06-22T15:03:14Z') + 0.658767)
  })
})

describe('parseMeasurement: invalid payloads are rejected with a reason (fixtures/invalid)', () => {
  const INVALID: Array<[name: string, payload: string, reason: RegExp]> = [
    ['an array value', '{"temperature": [1, 2, 3]}', /"temperature" must be a number/],
    ['a boolean value', '{"temperature": true}', /"temperature" must be a number/],
    ['a string value', '{"temperature": "25"}', /"temperature" must be a number/],
    ['a null value', '{"temperature": null}', /"temperature" must be a number/],
    [
      'a string inside a group',
      '{"location": {"latitude": "32.54"}}',
      /"location.latitude" must be a number/,
    ],
    ['a boolean inside a group', '{"location": {"ok": false}}', /"location.ok" must be a number/],
    ['nesting deeper than one group', '{"a": {"b": {"c": 1}}}', /"a.b" nests deeper/],
    ['an empty measurement {}', '{}', /no value/],
    ['an empty group {"foo":{}}', '{"foo":{}}', /group "foo" is empty/],
    ['only time', '{"time": "2020-10-15T05:30:47+00:00"}', /no value/],
    ['only time and type', '{"time": 1619802194, "type": "x"}', /no value/],
    ['a top-level array', '[{"temperature": 25}]', /must be a JSON object/],
    ['a top-level number', '25', /must be a JSON object/],
    ['JSON null', 'null', /must be a JSON object/],
    ['an invalid timestamp', '{"time": "2013-06-22 3am", "pressure": 220}', /not RFC 3339/],
    ['a partial timestamp (date only)', '{"time": "2013-06-22", "pressure": 220}', /not RFC 3339/],
    [
      'a partial timestamp (no seconds)',
      '{"time": "2013-06-22T17:03+02:00", "pressure": 220}',
      /not RFC 3339/,
    ],
    ['a timestamp without offset', '{"time": "2013-06-22T17:03:14", "pressure": 220}', /not RFC 3339/],
    [
      'a timestamp missing the T',
      '{"time": "2013-06-2217:03:14.000658767+02:00", "pressure": 220}',
      /not RFC 3339/,
    ],
    ['an impossible date', '{"time": "2021-02-30T00:00:00Z", "pressure": 220}', /not a valid date/],
    ['an impossible hour', '{"time": "2021-02-10T24:00:00Z", "pressure": 220}', /not a valid date/],
    ['a boolean time', '{"time": true, "pressure": 220}', /time must be/],
    ['a negative unix time', '{"time": -1, "pressure": 220}', /out of range/],
    ['a huge number 10e99999', '{"temperature": 10e99999}', /not a finite number/],
    ['a huge number in a group', '{"g": {"s": -10e99999}}', /"g.s" is not a finite number/],
    ['invalid JSON', '{"temperature": 25', /invalid JSON/],
    ['trailing characters', '{"temperature": 25} x', /invalid JSON/],
    ['an empty payload', '', /invalid JSON/],
    ['a non-string type', '{"type": 5, "temperature": 25}', /"type" must be a string/],
    ['non-object properties', '{"properties": [1], "temperature": 25}', /"properties" must be an object/],
  ]

  it.each(INVALID)('rejects %s', (_name, payload, expected) => {
    expect(reason(parseMeasurement(bytes(payload), 'x'))).toMatch(expected)
  })

  it('rejects invalid UTF-8', () => {
    const payload = Buffer.concat([bytes('{"temp'), Buffer.from([0xff, 0xfe]), bytes('": 1}')])
    expect(reason(parseMeasurement(payload, 'x'))).toMatch(/UTF-8/)
  })
})

describe('parseTime', () => {
  it('returns epoch milliseconds for RFC 3339 and unix seconds alike', () => {
    expect(valid(parseTime('2021-01-01T05:30:45+00:00'))).toBe(at('2021-01-01T05:30:45Z'))
    expect(valid(parseTime(1609479045))).toBe(at('2021-01-01T05:30:45Z'))
    expect(valid(parseTime('2021-01-01t05:30:45z'))).toBe(at('2021-01-01T05:30:45Z'))
  })

  it('rejects non-finite numbers, strings of other formats and other types', () => {
    expect(parseTime(Number.POSITIVE_INFINITY).ok).toBe(false)
    expect(parseTime(Number.NaN).ok).toBe(false)
    expect(parseTime('1609479045').ok).toBe(false)
    expect(parseTime(null).ok).toBe(false)
    expect(parseTime({}).ok).toBe(false)
  })
})

describe('parseEvent (reference §2.3)', () => {
  it('accepts the documented event with text, time and extra fragments', () => {
    const payload =
      '{"text": "A user just logged in", "time": "2021-01-01T05:30:45+00:00", "someOtherCustomFragment": {"nested": {"value": "extra info"}}}'
    const event = valid(parseEvent(bytes(payload), 'login_event'))
    expect(event).toMatchObject({
      type: 'login_event',
      text: 'A user just logged in',
      time: at('2021-01-01T05:30:45Z'),
    })
    expect(event.payload.someOtherCustomFragment).toEqual({ nested: { value: 'extra info' } })
  })

  it('lets "type" override the topic type and defaults text to the type', () => {
    expect(valid(parseEvent(bytes('{"type": "payload_type"}'), 'topic_type'))).toMatchObject({
      type: 'payload_type',
      text: 'payload_type',
      time: undefined,
    })
  })

  it('takes an empty payload as an event of the topic type', () => {
    expect(valid(parseEvent(Buffer.alloc(0), 'door_open'))).toMatchObject({
      type: 'door_open',
      text: 'door_open',
    })
  })

  it('rejects bad time, non-string text or type, arrays and invalid JSON', () => {
    expect(reason(parseEvent(bytes('{"text":"x","time":"yesterday"}'), 'e'))).toMatch(/not RFC 3339/)
    expect(reason(parseEvent(bytes('{"text": 5}'), 'e'))).toMatch(/"text" must be a string/)
    expect(reason(parseEvent(bytes('{"type": []}'), 'e'))).toMatch(/"type" must be a string/)
    expect(reason(parseEvent(bytes('["x"]'), 'e'))).toMatch(/JSON object/)
    expect(reason(parseEvent(bytes('{"text":'), 'e'))).toMatch(/invalid JSON/)
  })
})

describe('parseAlarm (reference §2.4)', () => {
  it('accepts the documented alarm', () => {
    const payload =
      '{"text": "Temperature is very high", "severity": "warning", "time": "2021-01-01T05:30:45+00:00", "someOtherCustomFragment": {"nested": {"value": "extra info"}}}'
    const alarm = valid(parseAlarm(bytes(payload), 'temperature_high'))
    expect(alarm).toMatchObject({
      type: 'temperature_high',
      severity: 'warning',
      text: 'Temperature is very high',
      time: at('2021-01-01T05:30:45Z'),
    })
    expect(alarm.payload.someOtherCustomFragment).toEqual({ nested: { value: 'extra info' } })
  })

  it.each(['critical', 'major', 'minor', 'warning'])('keeps the recommended severity %s', (severity) => {
    expect(valid(parseAlarm(bytes(JSON.stringify({ severity, text: 't' })), 'a')).severity).toBe(severity)
  })

  it('maps a missing or unknown severity to minor, as Cumulocity does', () => {
    expect(valid(parseAlarm(bytes('{"text":"t"}'), 'a')).severity).toBe('minor')
    expect(valid(parseAlarm(bytes('{"text":"t","severity":"catastrophic"}'), 'a')).severity).toBe('minor')
    expect(valid(parseAlarm(bytes('{"text":"t","severity":3}'), 'a')).severity).toBe('minor')
    expect(valid(parseAlarm(bytes('{"text":"t","severity":"MAJOR"}'), 'a')).severity).toBe('major')
  })

  it('uses the alarm type as text when text is missing, after a payload type override', () => {
    expect(valid(parseAlarm(bytes('{"severity":"major"}'), 'temperature_high')).text).toBe('temperature_high')
    expect(valid(parseAlarm(bytes('{"type":"overheat"}'), 'temperature_high'))).toMatchObject({
      type: 'overheat',
      text: 'overheat',
    })
  })

  it('rejects non-object payloads and bad fields (clearing is the empty payload, handled by ingest)', () => {
    expect(reason(parseAlarm(bytes('"high"'), 'a'))).toMatch(/JSON object/)
    expect(reason(parseAlarm(bytes('{"time":"2021-01-01"}'), 'a'))).toMatch(/not RFC 3339/)
    expect(reason(parseAlarm(bytes('{"text":{}}'), 'a'))).toMatch(/"text" must be a string/)
  })
})

describe('parseHealth (reference §2.7)', () => {
  it('reads up and down, with or without pid and time', () => {
    expect(valid(parseHealth(bytes('{"pid":1234,"status":"up","time":1674739912}')))).toEqual({
      status: 'up',
      payload: { pid: 1234, status: 'up', time: 1674739912 },
    })
    expect(valid(parseHealth(bytes('{"pid":51367,"status":"down"}'))).status).toBe('down')
    expect(valid(parseHealth(bytes('{"status":"down"}'))).status).toBe('down')
  })

  it('keeps any other status as its own and calls a missing one unknown', () => {
    expect(valid(parseHealth(bytes('{"status":"degraded"}'))).status).toBe('degraded')
    expect(valid(parseHealth(bytes('{"pid":1}'))).status).toBe('unknown')
    expect(valid(parseHealth(bytes('{"status":""}'))).status).toBe('unknown')
    expect(valid(parseHealth(bytes('{"status":1}'))).status).toBe('unknown')
  })

  it('reads the mosquitto bridge payload 1 as up and 0 as down', () => {
    expect(valid(parseHealth(bytes('1')))).toEqual({ status: 'up', payload: 1 })
    expect(valid(parseHealth(bytes('0')))).toEqual({ status: 'down', payload: 0 })
  })

  it('rejects other payloads', () => {
    expect(reason(parseHealth(bytes('2')))).toMatch(/JSON object/)
    expect(reason(parseHealth(bytes('"up"')))).toMatch(/JSON object/)
    expect(reason(parseHealth(bytes('up')))).toMatch(/invalid JSON/)
  })
})

describe('twinKeyError (reference §1.8, §2.5: non-empty, no "/", no leading "@")', () => {
  it.each(['device_OS', 'name', 'maintenanceMode', 'a@b', 'x.y'])('accepts %s', (key) => {
    expect(twinKeyError(key)).toBeUndefined()
  })

  it('refuses empty keys, keys with "/" and reserved "@" keys', () => {
    expect(twinKeyError('')).toMatch(/empty/)
    expect(twinKeyError('multi/path/key')).toMatch(/"\/"/)
    expect(twinKeyError('@type')).toMatch(/reserved/)
  })
})
