import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

// Races between a subscriber and publishes of retained state, swept over many timings. MQTT expects a
// subscriber to get either the live message or, once subscribed, the latest retained one [MQTT-3.3.1-6], and
// messages of one topic in the order they were published [MQTT-4.6.0-6]: never a missed state, never an
// older value after a newer one.

/** Lets the event loop turn `count` times: moves a publish across the broker's handling of a packet. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Messages seen per topic, each with the connection it came on, and a wait for the last one to be a given
 * payload.
 */
function recorder() {
  const seen = new Map<string, Array<{ connection: number; payload: string }>>()
  const waiters = new Map<string, { payload: string; resolve: () => void }>()
  let connections = 0
  return {
    seen,
    listen(client: MqttClient) {
      const connection = ++connections
      client.on('message', (topic, buffer) => {
        const payload = buffer.toString()
        const list = seen.get(topic) ?? []
        list.push({ connection, payload })
        seen.set(topic, list)
        const waiter = waiters.get(topic)
        if (waiter?.payload === payload) {
          waiters.delete(topic)
          waiter.resolve()
        }
      })
    },
    /** Resolves once `payload` is the last message seen on `topic`; rejects after 2 s. */
    lastIs(topic: string, payload: string): Promise<void> {
      if (seen.get(topic)?.at(-1)?.payload === payload) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(topic)
          reject(new Error(`${topic}: saw ${JSON.stringify(seen.get(topic))}, expected ${payload} last`))
        }, 2_000)
        waiters.set(topic, {
          payload,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/**
 * Topics whose messages went back on one connection (a payload published before one seen earlier), or whose
 * last message is not the last published. A message the client did not acknowledge before its connection
 * ended is sent again, in order, on the next one [MQTT-4.4.0-1]: going back across connections is expected.
 */
function misordered(
  seen: Map<string, Array<{ connection: number; payload: string }>>,
  published: (topic: string) => string[],
): string[] {
  const found: string[] = []
  for (const [topic, messages] of seen) {
    const order = published(topic)
    const back = messages.some(
      (message, i) =>
        i > 0 &&
        message.connection === messages[i - 1]?.connection &&
        order.lastIndexOf(message.payload) < order.lastIndexOf(messages[i - 1]?.payload ?? ''),
    )
    if (back || messages.at(-1)?.payload !== order.at(-1)) found.push(`${topic}: ${JSON.stringify(messages)}`)
  }
  return found
}

describe('retained state racing a subscriber', () => {
  let t: TestCore
  let device: MqttClient
  beforeAll(async () => {
    t = await startCore()
    device = await t.client({ clientId: 'race-device' })
  })
  afterAll(() => t.stop())

  /** Publishes QoS 1, retained unless told, as the core or as a device over MQTT; callers do not wait between. */
  function publisher(viaCore: boolean) {
    return (topic: string, payload: string, retain = true): Promise<void> =>
      viaCore
        ? t.core.parts.bus.publish(topic, payload, { retain, qos: 1 })
        : device.publishAsync(topic, payload, { retain, qos: 1 }).then(() => {})
  }

  it('a new subscriber ends with the latest state, live or retained, and never goes back', async () => {
    const iterations = 240
    const record = recorder()
    const sequences = new Map<string, string[]>()
    const open: MqttClient[] = []
    for (let i = 0; i < iterations; i++) {
      const topic = `te/device/main///twin/race_${i}`
      const publish = publisher(i % 2 === 0)
      // One state; a state, its clear and a new state; a state followed by a non-retained event the same
      // subscriber matches (a device reporting a change and the event that caused it).
      const variant = (i >> 1) % 3
      const sequence = variant === 1 ? ['"A"', '', '"B"'] : [`{"n":${i}}`]
      sequences.set(topic, sequence)
      const subscriber = await t.client()
      record.listen(subscriber)
      const subscribe = () => subscriber.subscribeAsync(`te/+/main///+/race_${i}`, { qos: 1 })
      const publishAll = () => [
        ...sequence.map((payload) => publish(topic, payload)),
        ...(variant === 2 ? [publish(`te/device/main///e/race_${i}`, '{"text":"changed"}', false)] : []),
      ]
      // From publishing some turns before the SUBSCRIBE is sent to some turns after.
      const offset = ((i >> 1) % 20) - 10
      let subscribed: Promise<unknown>
      let published: Promise<void>[]
      if (offset < 0) {
        published = publishAll()
        await turns(-offset)
        subscribed = subscribe()
      } else {
        subscribed = subscribe()
        await turns(offset)
        published = publishAll()
      }
      await Promise.all([subscribed, ...published])
      await record.lastIs(topic, sequence.at(-1) ?? '')
      // Ended a few iterations later, so a stale copy still on its way is recorded too.
      open.push(subscriber)
      if (open.length > 3) await open.shift()?.endAsync()
    }
    await Promise.all(open.map((client) => client.endAsync()))
    const stateTopics = new Map([...record.seen].filter(([topic]) => topic.includes('/twin/')))
    expect(stateTopics.size).toBe(iterations)
    expect(misordered(stateTopics, (topic) => sequences.get(topic) ?? [])).toStrictEqual([])
  })

  it('a persistent session resuming while a topic goes A, "", B sees B last and never an older value after a newer one', async () => {
    const iterations = 200
    const clientId = 'race-session'
    const record = recorder()
    let session = await t.client({ clientId, clean: false })
    record.listen(session)
    await session.subscribeAsync('te/device/main///twin/+', { qos: 1 })
    for (let i = 0; i < iterations; i++) {
      const topic = `te/device/main///twin/session_${i}`
      const publish = publisher(i % 2 === 0)
      // Publishes start from before the old connection has gone to after the new one is up.
      const offset = (i >> 1) % 12
      const ended = session.endAsync()
      if (offset < 3) await turns(offset)
      else await ended
      const resumed = mqtt.connect(t.ready.mqtt, { clientId, clean: false, reconnectPeriod: 0 })
      record.listen(resumed)
      const connected = new Promise<void>((resolve, reject) => {
        resumed.once('connect', () => resolve())
        resumed.once('error', reject)
      })
      if (offset >= 3) await turns(offset - 3)
      await Promise.all([publish(topic, '"A"'), publish(topic, ''), publish(topic, '"B"'), connected, ended])
      await record.lastIs(topic, '"B"')
      session = resumed
    }
    await session.endAsync()
    const sessionTopics = new Map([...record.seen].filter(([topic]) => topic.includes('/session_')))
    expect(sessionTopics.size).toBe(iterations)
    expect(misordered(sessionTopics, () => ['"A"', '', '"B"'])).toStrictEqual([])
  })
})
