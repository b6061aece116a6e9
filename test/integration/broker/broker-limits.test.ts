import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { CONNACK_ACCEPTED, RawClient, subscribe } from '../../helpers/raw-mqtt'

// What clients can make the broker keep is bounded (CoreOptions.mqttLimits, small here): topic filters
// per client, persistent sessions, the queue of an offline session, the retained store, connections.
// A refused filter gets 0x80 in its SUBACK, a refused retained message a reason on te/errors; every
// refusal is counted in /api/v1/status.

const limits = {
  maxSubscriptions: 5,
  maxSessions: 2,
  maxQueuedMessages: 3,
  maxRetainedBytes: 32 * 1024,
  maxConnections: 12,
}

/** The SUBACK's return codes: mqtt.js rejects a SUBACK holding 0x80, with the packet. */
async function granted(client: MqttClient, filters: string | string[], qos: 0 | 1 = 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos)
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet
    if (packet?.granted) return packet.granted
    throw error
  }
}

describe('broker limits', () => {
  let t: TestCore
  let errors: Awaited<ReturnType<typeof collect>>
  const raws: RawClient[] = []
  const own: MqttClient[] = []

  beforeAll(async () => {
    t = await startCore({ mqttLimits: limits })
    errors = await collect(await t.client(), 'te/errors')
  })
  afterAll(async () => {
    for (const raw of raws) raw.destroy()
    await Promise.all(own.map((c) => c.endAsync(true)))
    await t.stop()
  })

  const refused = async () =>
    (await t.json<{ broker: { refused: Record<string, number> } }>('/api/v1/status')).broker.refused

  it('grants a client 5 topic filters, refuses the 6th with 0x80, and counts one it gave up no more', async () => {
    const client = await t.client()
    expect(await granted(client, ['a/1', 'a/2', 'a/3', 'a/4'])).toEqual([1, 1, 1, 1])
    expect(await granted(client, ['a/5', 'a/6'])).toEqual([1, 128])
    // The same filter again is no new one.
    expect(await granted(client, 'a/1', 0)).toEqual([0])
    await client.unsubscribeAsync('a/2')
    expect(await granted(client, 'a/7')).toEqual([1])
    expect(await granted(client, 'a/8')).toEqual([128])
    expect((await refused()).subscriptions).toBe(2)
  })

  it('closes the connection of a SUBSCRIBE with more filters than a client may hold', async () => {
    const raw = new RawClient(t.ready.mqtt)
    raws.push(raw)
    await raw.connect()
    raw.send(subscribe(['b/1', 'b/2', 'b/3', 'b/4', 'b/5', 'b/6']))
    await raw.closedByServer()
    expect(raw.received.equals(CONNACK_ACCEPTED)).toBe(true)
  })

  it('keeps 2 persistent sessions: a third gets 0x80, the first two keep theirs', async () => {
    const session = async (clientId: string) => {
      const client = await mqtt.connectAsync(t.ready.mqtt, { clientId, clean: false, reconnectPeriod: 0 })
      own.push(client)
      return client
    }
    for (const id of ['keeper-1', 'keeper-2']) {
      const client = await session(id)
      expect(await granted(client, 'te/device/q1///e/+')).toEqual([1])
      await client.endAsync()
    }
    const third = await session('keeper-3')
    expect(await granted(third, 'te/device/q1///e/+')).toEqual([128])
    // A clean session holds nothing, so it is never refused as a session.
    const clean = await t.client()
    expect(await granted(clean, 'te/device/q1///e/+')).toEqual([1])
    const again = await session('keeper-1')
    expect(await granted(again, 'te/device/q1///e/other')).toEqual([1])
    await again.endAsync()
    expect((await refused()).sessions).toBe(1)
  })

  it('queues 3 messages for an offline session and drops the newer ones', async () => {
    const publisher = await t.client()
    for (let i = 1; i <= 5; i++)
      await publisher.publishAsync('te/device/q1///e/tick', JSON.stringify({ text: `tick ${i}` }), { qos: 1 })
    const back = mqtt.connect(t.ready.mqtt, { clientId: 'keeper-2', clean: false, reconnectPeriod: 0 })
    own.push(back)
    const received: string[] = []
    back.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).text))
    await vi.waitFor(() => expect(received).toEqual(['tick 1', 'tick 2', 'tick 3']))
    // keeper-1's queue (it subscribed to te/device/q1///e/+ too) dropped the same two.
    expect((await refused()).queue).toBe(4)
  })

  it('refuses a retained message that would overfill the retained store, on te/errors; replacing and clearing pass', async () => {
    const client = await t.client()
    const fragment = (n: number) => JSON.stringify({ fill: 'f'.repeat(n) })
    let stored = 0
    let n = 0
    // Fill until the store refuses: the core's own retained messages (its service, health) count too.
    const isRetained = (topic: string) =>
      t.core.parts.db.prepare('SELECT 1 FROM broker_retained WHERE topic = ?').get(topic) !== undefined
    for (;;) {
      const topic = `te/device/fill01///twin/f${++n}`
      // A QoS 1 PUBACK comes once the retained copy is stored (embedded-bus.ts).
      await client.publishAsync(topic, fragment(4000), { qos: 1, retain: true })
      if (!isRetained(topic)) {
        const report = await errors.next((m) => m.payload.includes(topic))
        expect(JSON.parse(report.payload)).toMatchObject({
          topic,
          error: 'the retained store is full (32768 bytes)',
        })
        break
      }
      stored++
      if (n > 20) throw new Error('the retained store never filled')
    }
    expect(stored).toBeGreaterThan(0)
    const full = `te/device/fill01///twin/f${n}`
    // The same topic with a payload no larger is a replacement; an empty one clears it.
    await client.publishAsync('te/device/fill01///twin/f1', fragment(100), { qos: 1, retain: true })
    await client.publishAsync('te/device/fill01///twin/f2', '', { qos: 1, retain: true })
    await client.publishAsync(full, fragment(4000), { qos: 1, retain: true })
    const retained = await collect(await t.client(), 'te/device/fill01///twin/+')
    await retained.next((m) => m.topic === full && m.retain)
    expect(retained.messages.find((m) => m.topic === 'te/device/fill01///twin/f1')?.payload).toBe(
      fragment(100),
    )
    expect(retained.messages.some((m) => m.topic === 'te/device/fill01///twin/f2')).toBe(false)
    expect((await refused()).retained).toBe(1)
  })

  it('refuses a publish to $SYS by closing the connection', async () => {
    const client = await t.client()
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish('$SYS/broker/fake', 'x', { qos: 1 })
    await closed
    expect((await refused()).protocol).toBe(1)
  })

  it('closes connections beyond the limit as soon as they are accepted, and counts them', async () => {
    const open = t.core.parts.bus.stats?.connections ?? 0
    const held: RawClient[] = []
    for (let i = open; i < limits.maxConnections; i++) {
      const raw = new RawClient(t.ready.mqtt)
      raws.push(raw)
      held.push(raw)
      await raw.connect()
    }
    const extra = new RawClient(t.ready.mqtt)
    raws.push(extra)
    extra.socket.once('connect', () => extra.send(Buffer.from([0x10, 0])))
    await extra.closedByServer()
    expect(extra.received.length).toBe(0)
    expect((await refused())['connection limit']).toBe(1)
    // A closed connection makes room again.
    held[0]?.destroy()
    await vi.waitFor(() => expect(t.core.parts.bus.stats?.connections).toBe(limits.maxConnections - 1))
    const next = new RawClient(t.ready.mqtt)
    raws.push(next)
    await next.connect()
  })
})
