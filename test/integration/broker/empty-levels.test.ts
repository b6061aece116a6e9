import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, startCore, type TestCore } from '../../helpers/core'

// [MQTT-4.7.1-3]: `+` matches one level, an empty one included. thin-edge.io ids have empty levels
// (`te/device/main//`), and its components subscribe with `te/+/+/+/+`.
describe('single-level wildcard on empty levels', () => {
  let t: TestCore
  beforeAll(async () => {
    t = await startCore()
  })
  afterAll(() => t.stop())

  it('delivers retained registrations of default-scheme devices to a te/+/+/+/+ subscriber', async () => {
    const device = await t.client()
    await device.publishAsync('te/device/boiler//', JSON.stringify({ '@type': 'child-device' }), {
      retain: true,
      qos: 1,
    })
    const late = await t.client()
    const seen = await collect(late, 'te/+/+/+/+')
    const registration = await seen.next((m) => m.topic === 'te/device/boiler//')
    expect(registration).toMatchObject({ retain: true, payload: '{"@type":"child-device"}' })
  })

  it('queues QoS 1 messages on empty-level topics for an offline persistent session with a + filter', async () => {
    const subscriber = await t.client({ clientId: 'twin-mirror', clean: false })
    await subscriber.subscribeAsync('te/+/+/+/+/e/+', { qos: 1 })
    await subscriber.endAsync()
    const device = await t.client()
    await device.publishAsync('te/device/boiler///e/ignition', JSON.stringify({ text: 'Ignition' }), {
      qos: 1,
    })
    // Listen before the session resumes: the queued message follows the CONNACK at once.
    const back = mqtt.connect(t.ready.mqtt, { clientId: 'twin-mirror', clean: false, reconnectPeriod: 0 })
    const received = new Promise<string>((resolve) => back.on('message', (topic) => resolve(topic)))
    expect(await received).toBe('te/device/boiler///e/ignition')
    await back.endAsync()
  })
})
