import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { apiEntity, errorsOf, pub, retainedOn } from './bus-helpers'

// Measurements, units, events, alarms, twin and health over MQTT (reference §2), observed through
// the /api/v1 answers a real core gives.

interface SeriesView {
  id: number
  type: string
  name: string
  unit: string | null
  lastTime: number | null
  lastValue: number | null
}
interface AlarmView {
  id: number
  entity: string
  type: string
  severity: string
  text: string
  status: string
  count: number
}
interface TwinView {
  value: unknown
  version: number
}

let t: TestCore
let device: MqttClient

beforeAll(async () => {
  t = await startCore()
  device = await t.client()
})
afterAll(() => t.stop())

const MAIN = 'device/main//'
const seriesOf = async (id = MAIN) => (await t.json<{ series: SeriesView[] }>(apiEntity(id))).series
const oneSeries = async (type: string, name: string, id = MAIN) => {
  const found = (await seriesOf(id)).find((s) => s.type === type && s.name === name)
  if (!found) throw new Error(`no series ${type}/${name} on ${id}`)
  return found
}
const alarmsOf = async (type: string, status = 'active,acknowledged,cleared') =>
  (await t.json<AlarmView[]>(`/api/v1/alarms?status=${status}`)).filter((a) => a.type === type)
const twinOf = async (id = MAIN) => (await t.json<{ twin: Record<string, TwinView> }>(apiEntity(id))).twin
const healthOf = async (id: string) =>
  (await t.json<{ health: { status: string } | null }>(apiEntity(id))).health?.status

describe('measurements (§2.1)', () => {
  it('stores values and groups, visible as series with lastValue and as points over a range', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000
    const iso = (ms: number) => new Date(ms).toISOString()
    await pub(device, 'te/device/main///m/environment', {
      time: iso(now - 3000),
      temperature: 20.5,
      climate: { humidity: 40 },
    })
    await pub(device, 'te/device/main///m/environment', { time: (now - 2000) / 1000, temperature: 21 })
    await pub(device, 'te/device/main///m/environment', {
      // The same instant written at +02:00.
      time: iso(now - 1000 + 7_200_000).replace('Z', '+02:00'),
      temperature: 21.5,
    })

    const temperature = await oneSeries('environment', 'temperature')
    expect(temperature).toMatchObject({ lastValue: 21.5, lastTime: now - 1000 })
    expect(await oneSeries('environment', 'climate.humidity')).toMatchObject({
      lastValue: 40,
      lastTime: now - 3000,
    })

    const range = await t.json<{
      resolution: string
      points: Array<{ time: number; avg: number; count: number }>
    }>(`/api/v1/series/${temperature.id}?from=${now - 60_000}&to=${now + 60_000}&points=100`)
    expect(range.resolution).toBe('raw')
    expect(range.points.map((p) => [p.time, p.avg])).toEqual([
      [now - 3000, 20.5],
      [now - 2000, 21],
      [now - 1000, 21.5],
    ])
    const narrow = await t.json<{ points: unknown[] }>(
      `/api/v1/series/${temperature.id}?from=${iso(now - 2500)}&to=${iso(now)}&points=10`,
    )
    expect(narrow.points).toHaveLength(2)
  })

  it('stamps a value without time with the receive time', async () => {
    const before = Date.now()
    await pub(device, 'te/device/main///m/stamped', { value: 7 })
    const series = await oneSeries('stamped', 'value')
    expect(series.lastValue).toBe(7)
    expect(series.lastTime).toBeGreaterThanOrEqual(before)
    // Receive stamps are strictly increasing, so they may run a fraction of a millisecond ahead.
    expect(series.lastTime).toBeLessThanOrEqual(Date.now() + 1)
  })

  it('takes the empty topic type te/device/main///m/ and a "type" in the payload over the topic type', async () => {
    await pub(device, 'te/device/main///m/', { untyped: 1 })
    await pub(device, 'te/device/main///m/CustomType_topic', { type: 'CustomType_payload', typed: 2 })
    const series = await seriesOf()
    expect(series).toContainEqual(expect.objectContaining({ type: '', name: 'untyped', lastValue: 1 }))
    expect(series).toContainEqual(
      expect.objectContaining({ type: 'CustomType_payload', name: 'typed', lastValue: 2 }),
    )
    expect(series.some((s) => s.type === 'CustomType_topic')).toBe(false)
  })

  it.each([
    ['an array', '{"temperature": [1, 2]}', /must be a number/],
    ['a boolean', '{"temperature": true}', /must be a number/],
    ['a string', '{"temperature": "25"}', /must be a number/],
    ['depth > 2', '{"a": {"b": {"c": 1}}}', /nests deeper/],
    ['{}', '{}', /no value/],
    ['{"foo":{}}', '{"foo":{}}', /group "foo" is empty/],
    ['only time', '{"time": "2020-10-15T05:30:47+00:00"}', /no value/],
    ['a top-level array', '[{"temperature": 25}]', /JSON object/],
    ['an invalid timestamp', '{"time": "2013-06-22 3am", "pressure": 220}', /RFC 3339/],
    ['a huge number', '{"temperature": 10e99999}', /finite/],
    ['invalid JSON', '{"temperature": ', /invalid JSON/],
  ])('rejects %s on te/errors with the reason and stores nothing', async (_name, payload, reason) => {
    const errors = await errorsOf(t)
    const topic = 'te/device/main///m/rejected'
    await pub(device, topic, payload)
    expect(await errors.about(topic)).toMatch(reason)
    expect((await seriesOf()).filter((s) => s.type === 'rejected')).toEqual([])
  })

  it('rejects invalid UTF-8 and keeps accepting valid data afterwards', async () => {
    const errors = await errorsOf(t)
    const topic = 'te/device/main///m/utf8'
    await pub(
      device,
      topic,
      Buffer.concat([Buffer.from('{"t'), Buffer.from([0xc3, 0x28]), Buffer.from('": 1}')]),
    )
    expect(await errors.about(topic)).toMatch(/UTF-8/)
    await pub(device, topic, { ok: 1 })
    expect((await seriesOf()).filter((s) => s.type === 'utf8').map((s) => s.name)).toEqual(['ok'])
  })
})

describe('measurement units from m/<type>/meta (§2.2)', () => {
  it('attaches the documented units to the series of that type', async () => {
    await pub(
      device,
      'te/device/main///m/battery_reading/meta',
      {
        temperature: { unit: '°C', precision: '±0.1°C' },
        voltage: { unit: 'V', min: 0, max: 20 },
        current: { unit: 'A' },
      },
      true,
    )
    await pub(device, 'te/device/main///m/battery_reading', {
      temperature: 25,
      voltage: 12.1,
      current: 0.5,
      power: 6,
    })
    expect((await oneSeries('battery_reading', 'temperature')).unit).toBe('°C')
    expect((await oneSeries('battery_reading', 'voltage')).unit).toBe('V')
    expect((await oneSeries('battery_reading', 'current')).unit).toBe('A')
    expect((await oneSeries('battery_reading', 'power')).unit).toBeNull()
    const series = await oneSeries('battery_reading', 'voltage')
    const range = await t.json<{ series: { unit: string } }>(`/api/v1/series/${series.id}`)
    expect(range.series.unit).toBe('V')
  })

  it('uses dotted keys for group series and is per measurement type', async () => {
    await pub(device, 'te/device/main///m/climate', { Climate: { Temperature: 21, Humidity: 40 } })
    await pub(device, 'te/device/main///m/climate/meta', { 'Climate.Temperature': { unit: '°C' } }, true)
    expect((await oneSeries('climate', 'Climate.Temperature')).unit).toBe('°C')
    expect((await oneSeries('climate', 'Climate.Humidity')).unit).toBeNull()
    await pub(device, 'te/device/main///m/other_climate', { Climate: { Temperature: 5 } })
    expect((await oneSeries('other_climate', 'Climate.Temperature')).unit).toBeNull()
  })

  it('forgets the units when the meta topic is cleared with an empty retained payload', async () => {
    await pub(device, 'te/device/main///m/tank/meta', { level: { unit: 'm' } }, true)
    await pub(device, 'te/device/main///m/tank', { level: 1.2 })
    expect((await oneSeries('tank', 'level')).unit).toBe('m')
    await pub(device, 'te/device/main///m/tank/meta', '', true)
    expect((await oneSeries('tank', 'level')).unit).toBeNull()
  })
})

describe('events (§2.3)', () => {
  it('stores the documented event with its time, text and extra fragments', async () => {
    await pub(device, 'te/device/main///e/login_event', {
      text: 'A user just logged in',
      time: '2021-01-01T05:30:45+00:00',
      someOtherCustomFragment: { nested: { value: 'extra info' } },
    })
    const events = await t.json<Array<Record<string, unknown>>>(
      `/api/v1/events?entity=${encodeURIComponent(MAIN)}&type=login_event`,
    )
    expect(events).toEqual([
      expect.objectContaining({
        entity: MAIN,
        type: 'login_event',
        text: 'A user just logged in',
        time: Date.parse('2021-01-01T05:30:45Z'),
      }),
    ])
    expect(events[0]?.payload).toMatchObject({ someOtherCustomFragment: { nested: { value: 'extra info' } } })
  })

  it('takes "type" from the payload and the type as text when text is missing', async () => {
    await pub(device, 'te/device/main///e/topic_type', { type: 'door_open' })
    const events = await t.json<Array<{ type: string; text: string }>>('/api/v1/events?type=door_open')
    expect(events).toEqual([expect.objectContaining({ type: 'door_open', text: 'door_open' })])
  })

  it('rejects an event with an invalid time on te/errors', async () => {
    const errors = await errorsOf(t)
    await pub(device, 'te/device/main///e/bad_event', { text: 'x', time: 'yesterday' })
    expect(await errors.about('te/device/main///e/bad_event')).toMatch(/RFC 3339/)
    expect(await t.json<unknown[]>('/api/v1/events?type=bad_event')).toEqual([])
  })
})

describe('alarms (§2.4)', () => {
  it('raises a retained alarm, counts a re-raise and clears on an empty retained payload', async () => {
    const topic = 'te/device/main///a/temperature_high'
    const payload = {
      text: 'Temperature is very high',
      severity: 'warning',
      time: '2021-01-01T05:30:45+00:00',
      someOtherCustomFragment: { nested: { value: 'extra info' } },
    }
    await pub(device, topic, payload, true)
    expect(await alarmsOf('temperature_high')).toEqual([
      expect.objectContaining({
        entity: MAIN,
        severity: 'warning',
        text: 'Temperature is very high',
        status: 'active',
        count: 1,
      }),
    ])
    expect((await retainedOn(t, topic)).has(topic)).toBe(true)

    await pub(device, topic, { ...payload, time: '2021-01-01T05:31:45+00:00' }, true)
    expect(await alarmsOf('temperature_high')).toEqual([
      expect.objectContaining({ status: 'active', count: 2 }),
    ])

    await pub(device, topic, '', true)
    expect(await alarmsOf('temperature_high')).toEqual([expect.objectContaining({ status: 'cleared' })])
    expect(await alarmsOf('temperature_high', 'active')).toEqual([])
    expect((await retainedOn(t, topic)).has(topic)).toBe(false)
  })

  it('defaults the severity to minor and the text to the alarm type', async () => {
    await pub(device, 'te/device/main///a/door_open', { severity: 'catastrophic' }, true)
    expect(await alarmsOf('door_open')).toEqual([
      expect.objectContaining({ severity: 'minor', text: 'door_open' }),
    ])
    await pub(device, 'te/device/main///a/door_open', '', true)
  })

  it('acknowledges and clears through the API: 409 on repeat, empty retained on the topic, audit entries', async () => {
    const topic = 'te/device/main///a/pressure_low'
    await pub(device, topic, { text: 'Pressure low', severity: 'major' }, true)
    const [alarm] = await alarmsOf('pressure_low')
    if (!alarm) throw new Error('alarm not raised')

    const ack = await t.http(`/api/v1/alarms/${alarm.id}/acknowledge`, { method: 'POST' })
    expect(ack.status).toBe(200)
    expect(await ack.json()).toMatchObject({ id: alarm.id, status: 'acknowledged' })
    const again = await t.http(`/api/v1/alarms/${alarm.id}/acknowledge`, { method: 'POST' })
    expect(again.status).toBe(409)
    expect(await again.json()).toEqual({ error: expect.stringContaining('acknowledged') })

    const watcher = await t.client()
    const bus = await collect(watcher, topic)
    await bus.next((m) => m.retain && m.payload !== '')
    const clear = await t.http(`/api/v1/alarms/${alarm.id}/clear`, { method: 'POST' })
    expect(clear.status).toBe(200)
    expect(await clear.json()).toMatchObject({ id: alarm.id, status: 'cleared' })
    await bus.next((m) => m.payload === '')
    expect((await retainedOn(t, topic)).has(topic)).toBe(false)
    expect((await t.http(`/api/v1/alarms/${alarm.id}/clear`, { method: 'POST' })).status).toBe(409)
    expect((await t.http(`/api/v1/alarms/${alarm.id}/acknowledge`, { method: 'POST' })).status).toBe(409)
    expect((await t.http('/api/v1/alarms/999999/clear', { method: 'POST' })).status).toBe(404)

    await vi.waitFor(async () => {
      const audit = await t.json<
        Array<{ action: string; entity: string; target: string; before: unknown; after: unknown }>
      >(`/api/v1/audit?entity=${encodeURIComponent(MAIN)}`)
      const target = `alarm/${alarm.id}/pressure_low`
      expect(audit.filter((a) => a.target === target)).toEqual([
        expect.objectContaining({
          action: 'alarm.clear',
          before: { status: 'acknowledged' },
          after: { status: 'cleared' },
        }),
        expect.objectContaining({
          action: 'alarm.acknowledge',
          before: { status: 'active' },
          after: { status: 'acknowledged' },
        }),
      ])
    })
  })
})

describe('twin fragments (§2.5)', () => {
  it('sets, updates (version increments), ignores an identical value and deletes by empty payload', async () => {
    const topic = 'te/device/main///twin/device_OS'
    await pub(device, topic, { family: 'Debian', version: '11' }, true)
    expect((await twinOf()).device_OS).toMatchObject({
      value: { family: 'Debian', version: '11' },
      version: 1,
    })
    await pub(device, topic, { family: 'Debian', version: '12' }, true)
    expect((await twinOf()).device_OS).toMatchObject({
      value: { family: 'Debian', version: '12' },
      version: 2,
    })
    await pub(device, topic, { family: 'Debian', version: '12' }, true)
    expect((await twinOf()).device_OS?.version).toBe(2)
    await pub(device, topic, '', true)
    expect((await twinOf()).device_OS).toBeUndefined()
  })

  it('takes any JSON value: a string, a boolean', async () => {
    await pub(device, 'te/device/main///twin/nickname', '"Child 01"', true)
    await pub(device, 'te/device/main///twin/maintenanceMode', 'true', true)
    const twin = await twinOf()
    expect(twin.nickname?.value).toBe('Child 01')
    expect(twin.maintenanceMode?.value).toBe(true)
  })

  it('rejects reserved @ keys and values that are not JSON', async () => {
    const errors = await errorsOf(t)
    await pub(device, 'te/device/main///twin/@type', '"service"', true)
    expect(await errors.about('te/device/main///twin/@type')).toMatch(/reserved/)
    await pub(device, 'te/device/main///twin/broken', '{not json', true)
    expect(await errors.about('te/device/main///twin/broken')).toMatch(/invalid JSON/)
    const twin = await twinOf()
    expect(twin['@type']).toBeUndefined()
    expect(twin.broken).toBeUndefined()
  })
})

describe('health (§2.7)', () => {
  it('follows up and down of a service, auto-registered from its health', async () => {
    const topic = 'te/device/main/service/collector/status/health'
    await pub(device, topic, { pid: 1234, status: 'up', time: 1674739912 }, true)
    expect(await healthOf('device/main/service/collector')).toBe('up')
    await pub(device, topic, { pid: 1234, status: 'down' }, true)
    expect(await healthOf('device/main/service/collector')).toBe('down')
  })

  it('reads the mosquitto bridge health 1 / 0', async () => {
    const topic = 'te/device/main/service/mosquitto-c8y-bridge/status/health'
    await pub(device, topic, '1', true)
    expect(await healthOf('device/main/service/mosquitto-c8y-bridge')).toBe('up')
    await pub(device, topic, '0', true)
    expect(await healthOf('device/main/service/mosquitto-c8y-bridge')).toBe('down')
  })

  it('marks a service down by its MQTT Last Will when its connection drops', async () => {
    const topic = 'te/device/main/service/lwt-service/status/health'
    const service = await t.client({
      clientId: 'lwt-service',
      will: { topic, payload: Buffer.from('{"pid":51367,"status":"down"}'), qos: 1, retain: true },
    })
    await pub(service, topic, { pid: 51367, status: 'up' }, true)
    expect(await healthOf('device/main/service/lwt-service')).toBe('up')
    service.stream.destroy()
    await vi.waitFor(async () => expect(await healthOf('device/main/service/lwt-service')).toBe('down'))
    const retained = await retainedOn(t, topic)
    expect(JSON.parse(retained.get(topic) ?? 'null')).toEqual({ pid: 51367, status: 'down' })
  })

  it.each([
    ['the core service', 'te/device/main/service/edgetwin/cmd/health/check', '{}'],
    ['the whole main device', 'te/device/main///cmd/health/check', ''],
  ])('republishes the core health on cmd/health/check addressed to %s', async (_name, topic, payload) => {
    const watcher = await t.client()
    const health = await collect(watcher, 'te/device/main/service/edgetwin/status/health')
    const initial = await health.next((m) => m.retain)
    expect(JSON.parse(initial.payload)).toMatchObject({
      status: 'up',
      pid: expect.any(Number),
      time: expect.any(Number),
    })
    await pub(device, topic, payload)
    const answer = await health.next((m) => !m.retain)
    const body = JSON.parse(answer.payload) as { status: string; time: number }
    expect(body.status).toBe('up')
    expect(body.time).toBeGreaterThanOrEqual((JSON.parse(initial.payload) as { time: number }).time)
  })
})
