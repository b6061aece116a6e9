import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { collect, startCore, type TestCore, tempDir } from '../../helpers/core'
import { type Mosquitto, startMosquitto } from '../../helpers/mosquitto'

type Entity = {
  id: string
  series: Array<{ name: string; lastValue: number }>
  twin: Record<string, { value: unknown }>
}
type Alarm = { type: string; count: number; status: string }

describe('attached to an external broker (--broker-url, real mosquitto)', () => {
  let broker: Mosquitto
  let t: TestCore
  const dataDir = tempDir()

  beforeAll(async () => {
    broker = await startMosquitto()
    t = await startCore({ brokerUrl: broker.url, dataDir })
  })
  afterAll(async () => {
    await t?.stop()
    await broker?.stop()
  })

  it('ingests what thin-edge.io connectors publish on that broker', async () => {
    const device = await mqtt.connectAsync(broker.url)
    await device.publishAsync(
      'te/device/press//',
      JSON.stringify({ '@type': 'child-device', name: 'Press 1' }),
      {
        retain: true,
        qos: 1,
      },
    )
    await device.publishAsync('te/device/press///m/hydraulics', JSON.stringify({ pressure: 182.5 }), {
      qos: 1,
    })
    await device.publishAsync(
      'te/device/press///a/overpressure',
      JSON.stringify({ text: 'Pressure high', severity: 'major' }),
      { retain: true, qos: 1 },
    )
    await vi.waitFor(async () => {
      const press = await t.json<Entity>('/api/v1/entities/device%2Fpress%2F%2F')
      expect(press.series.find((s) => s.name === 'pressure')?.lastValue).toBe(182.5)
      expect(press.twin.name?.value).toBe('Press 1')
    })
    const alarms = await t.json<Alarm[]>('/api/v1/alarms?entity=device/press//')
    expect(alarms).toMatchObject([{ type: 'overpressure', count: 1, status: 'active' }])
    await device.endAsync()
  })

  it('publishes on that broker what the core itself publishes (initial twin keys, its own health)', async () => {
    const observer = await mqtt.connectAsync(broker.url)
    const seen = await collect(observer, 'te/#')
    await seen.next((m) => m.topic === 'te/device/press///twin/name' && m.payload === '"Press 1"' && m.retain)
    await seen.next(
      (m) => m.topic === 'te/device/main/service/edgetwin/status/health' && m.payload.includes('"up"'),
    )
    await observer.endAsync()
  })

  it('does not count a retained alarm delivered again after a restart as a new occurrence', async () => {
    await t.stop()
    t = await startCore({ brokerUrl: broker.url, dataDir })
    // The retained alarm comes back on subscribe; it is the same occurrence.
    await vi.waitFor(async () =>
      expect((await t.json<{ broker: { connected: boolean } }>('/api/v1/status')).broker.connected).toBe(
        true,
      ),
    )
    const probe = await mqtt.connectAsync(broker.url)
    await probe.publishAsync('te/device/press///m/hydraulics', JSON.stringify({ pressure: 190 }), { qos: 1 })
    await vi.waitFor(async () => {
      const press = await t.json<Entity>('/api/v1/entities/device%2Fpress%2F%2F')
      expect(press.series.find((s) => s.name === 'pressure')?.lastValue).toBe(190)
    })
    const alarms = await t.json<Alarm[]>('/api/v1/alarms?entity=device/press//')
    expect(alarms).toMatchObject([{ type: 'overpressure', count: 1, status: 'active' }])
    await probe.endAsync()
  })

  it('fails clearly when the broker cannot be reached', async () => {
    const unreachable = startCore({ brokerUrl: 'mqtt://127.0.0.1:1', dataDir: tempDir() })
    await expect(unreachable).rejects.toThrow(/cannot connect to broker mqtt:\/\/127\.0\.0\.1:1/)
  })
})
