import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { connect, puback, publish, RawClient, subscribe, unsubscribe } from '../../helpers/raw-mqtt'

// The MQTT 3.1.1 rules a server MUST enforce by closing the connection, sent as raw packets: strings
// that are not well-formed UTF-8 or hold U+0000 [MQTT-1.5.3-1] [MQTT-1.5.3-2], the control characters
// and non-characters a server MAY refuse (§1.5.3, refused as mosquitto does), and packet identifier 0
// on a QoS > 0 PUBLISH, a SUBSCRIBE or an UNSUBSCRIBE [MQTT-2.3.1-1].

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

const BAD_TOPICS: Array<[string, Buffer]> = [
  ['an invalid byte', bytes('te/device/bad1///e/', [0xff], 'x')],
  ['a truncated sequence', bytes('te/device/bad2///e/', [0xe2, 0x82])],
  ['an overlong encoding of "/"', bytes('te/device/bad3///e/', [0xc0, 0xaf])],
  ['a UTF-16 surrogate (U+D800)', bytes('te/device/bad4///e/', [0xed, 0xa0, 0x80])],
  ['a code point above U+10FFFF', bytes('te/device/bad5///e/', [0xf4, 0x90, 0x80, 0x80])],
  ['U+0000', bytes('te/device/bad6///e/', [0x00], 'x')],
  ['U+0001', bytes('te/device/bad7///e/', [0x01])],
  ['U+001F', bytes('te/device/bad8///e/', [0x1f])],
  ['U+007F', bytes('te/device/bad9///e/', [0x7f])],
  ['U+0085', bytes('te/device/bad10///e/', [0xc2, 0x85])],
  ['U+FFFF', bytes('te/device/bad11///e/', [0xef, 0xbf, 0xbf])],
  ['U+FDD0', bytes('te/device/bad12///e/', [0xef, 0xb7, 0x90])],
  ['U+1FFFE', bytes('te/device/bad13///e/', [0xf0, 0x9f, 0xbf, 0xbe])],
]

describe('MQTT protocol violations close the connection', () => {
  let t: TestCore
  let seen: Awaited<ReturnType<typeof collect>>
  const raws: RawClient[] = []
  const raw = () => {
    const client = new RawClient(t.ready.mqtt)
    raws.push(client)
    return client
  }

  beforeAll(async () => {
    t = await startCore()
    seen = await collect(await t.client(), 'te/#')
  })
  afterAll(async () => {
    for (const client of raws) client.destroy()
    await t.stop()
  })

  /** A connected raw client sends `bad`: the server closes the connection without acknowledging it. */
  async function refused(bad: Buffer, id?: number): Promise<RawClient> {
    const client = raw()
    await client.connect()
    client.send(bad)
    await client.closedByServer()
    if (id !== undefined) expect(client.received.includes(puback(id))).toBe(false)
    return client
  }

  it.each(BAD_TOPICS)('a PUBLISH whose topic has %s', async (_, topic) => {
    await refused(publish(topic, '{"text":"x"}', { qos: 1, id: 7, retain: true }), 7)
  })

  it('delivers, stores and retains none of the refused topics', async () => {
    // A valid message published after all the refused ones: once it arrives, they would have too.
    const client = await t.client()
    await client.publishAsync('te/device/good1///e/ok', '{"text":"ok"}', { qos: 1 })
    await seen.next((m) => m.topic === 'te/device/good1///e/ok')
    expect(seen.messages.filter((m) => m.topic.includes('/bad'))).toEqual([])
    const entities = await t.json<Array<{ id: string }>>('/api/v1/entities')
    expect(entities.filter((e) => e.id.includes('bad'))).toEqual([])
    const retained = t.core.parts.db
      .prepare("SELECT topic FROM broker_retained WHERE topic LIKE '%bad%'")
      .all()
    expect(retained).toEqual([])
  })

  it('accepts what is well-formed: U+00A0, U+FEFF, U+FFFD, emoji and other planes', async () => {
    const topic = 'te/device/good2///e/\u00a0\ufeff\ufffd😀\u{10fffd}é温'
    const client = raw()
    await client.connect()
    client.send(publish(topic, '{"text":"fine"}', { qos: 1, id: 9 }))
    await client.expect(puback(9))
    const message = await seen.next((m) => m.topic === topic)
    expect(message.payload).toBe('{"text":"fine"}')
  })

  it.each([
    ['QoS 1', 1],
    ['QoS 2', 2],
  ] as const)('a %s PUBLISH with packet identifier 0', async (_, qos) => {
    await refused(publish(`te/device/zero${qos}///e/x`, '{"text":"zero"}', { qos, id: 0 }), 0)
    const client = await t.client()
    await client.publishAsync(`te/device/zero${qos}///e/after`, '{"text":"after"}', { qos: 1 })
    await seen.next((m) => m.topic === `te/device/zero${qos}///e/after`)
    expect(seen.messages.filter((m) => m.topic === `te/device/zero${qos}///e/x`)).toEqual([])
  })

  it('a SUBSCRIBE or UNSUBSCRIBE with packet identifier 0', async () => {
    await refused(subscribe(['te/#'], 0))
    await refused(unsubscribe(['te/#'], 0))
  })

  it('a topic filter with U+0000 or ill-formed UTF-8, in a SUBSCRIBE or an UNSUBSCRIBE', async () => {
    await refused(subscribe(['te/ok', bytes('te/', [0x00])]))
    await refused(subscribe([bytes('te/', [0xed, 0xbf, 0xbf])]))
    await refused(unsubscribe([bytes('te/', [0xfe])]))
  })

  it.each([
    ['a client id with U+0000', { clientId: bytes('raw', [0x00]) }],
    ['a client id with ill-formed UTF-8', { clientId: bytes('raw', [0xc3]) }],
    ['a user name with U+0000', { username: bytes('user', [0x00]), password: 'x' }],
    [
      'a will topic with U+0001',
      { will: { topic: bytes('te/device/will1///e/', [0x01]), payload: Buffer.from('{}') } },
    ],
  ])('a CONNECT with %s: closed before any CONNACK', async (_, fields) => {
    const client = raw()
    client.send(connect(fields))
    await client.closedByServer()
    expect(client.received.length).toBe(0)
  })

  it('keeps serving everyone else, and counts what it refused', async () => {
    const client = await t.client()
    await client.publishAsync('te/device/good3///e/ok', '{"text":"still here"}', { qos: 1 })
    await seen.next((m) => m.topic === 'te/device/good3///e/ok')
    const status = await t.json<{ broker: { refused: Record<string, number> } }>('/api/v1/status')
    // Topics, packet identifiers 0 (two PUBLISH, a SUBSCRIBE, an UNSUBSCRIBE), filters, CONNECTs.
    expect(status.broker.refused.protocol).toBe(BAD_TOPICS.length + 2 + 2 + 3 + 4)
  })
})
