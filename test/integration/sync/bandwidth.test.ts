import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'
import { type Mosquitto, startMosquitto } from '../../helpers/mosquitto'
import { startProxy, type TcpProxy } from '../../helpers/tcp-proxy'
import { configureSync, registerChildren, syncStatus, waitForStatus } from './harness'

const SITE = 'wire'
const DEVICES = Array.from({ length: 10 }, (_, i) => `device/press${i}//`)
const MESSAGES_PER_DEVICE = 100
const NAMES = ['pressure', 'temperature', 'current', 'vibration', 'position']

/** Realistic values: a slow sine per series plus noise, two or three decimals. */
function measurement(device: number, n: number): Record<string, number> {
  const values: Record<string, number> = { time: 1_800_000_000 + n * 0.5 }
  NAMES.forEach((name, i) => {
    const wave = 50 + 20 * Math.sin((n + device * 7) / (10 + i)) + Math.random() * 2
    values[name] = Math.round(wave * 10 ** (2 + (i % 2))) / 10 ** (2 + (i % 2))
  })
  return values
}

describe('bytes on the wire per measurement value', () => {
  let cloud: Mosquitto | undefined
  let core: TestCore | undefined
  const proxies: TcpProxy[] = []

  afterEach(async () => {
    await core?.stop()
    for (const proxy of proxies.splice(0)) await proxy.stop()
    await cloud?.dispose()
  })

  it('batching and compression send far fewer bytes than one message per measurement', async () => {
    cloud = await startMosquitto()
    const edgeLink = await startProxy(cloud.port)
    const naiveLink = await startProxy(cloud.port)
    proxies.push(edgeLink, naiveLink)
    core = await startCore()
    const device = await core.client()
    await registerChildren(device, DEVICES)
    await configureSync(core, { url: edgeLink.url, siteId: SITE, batchMs: 500, enabled: true })
    await waitForStatus(core, (s) => s.state === 'connected' && s.backlog.items === 0)
    const before = { bytes: edgeLink.bytes.up, values: (await syncStatus(core)).sent.values }

    const messages: Array<{ topic: string; payload: string }> = []
    for (let n = 0; n < MESSAGES_PER_DEVICE; n++) {
      DEVICES.forEach((entity, d) => {
        messages.push({ topic: `te/${entity}/m/press`, payload: JSON.stringify(measurement(d, n)) })
      })
    }
    for (const { topic, payload } of messages) await device.publishAsync(topic, payload, { qos: 1 })
    const values = messages.length * NAMES.length
    await waitForStatus(core, (s) => s.sent.values - before.values === values && s.backlog.items === 0)
    const edgeBytes = edgeLink.bytes.up - before.bytes

    // The same measurements as a naive bridge forwards them: one QoS 1 MQTT message each.
    const naive = await mqtt.connectAsync(naiveLink.url, { reconnectPeriod: 0 })
    const connectBytes = naiveLink.bytes.up
    for (const { topic, payload } of messages) {
      await naive.publishAsync(`edgetwin/v1/${SITE}/naive/${topic}`, payload, { qos: 1 })
    }
    const naiveBytes = naiveLink.bytes.up - connectBytes
    await naive.endAsync()

    const perValue = { edgetwin: edgeBytes / values, naive: naiveBytes / values }
    console.info(
      `bytes per value: EdgeTwin ${perValue.edgetwin.toFixed(2)}, one message each ${perValue.naive.toFixed(2)}`,
    )
    expect(perValue.naive).toBeGreaterThan(15)
    expect(perValue.edgetwin * 4).toBeLessThan(perValue.naive)
  }, 60_000)
})
