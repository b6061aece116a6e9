import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import mqtt, { type IClientOptions } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  downTopic,
  encodeBatch,
  PROTOCOL_VERSION,
  UP_KINDS,
  type UpItem,
  type UpKind,
  upTopic,
} from '../../../src-main/core/sync/protocol'
import { generateCerts, type TestCerts } from '../../helpers/certs'
import { CliProcesses } from '../../helpers/cli'
import { type CloudTail, startCloudTail, type TailItem } from '../../helpers/cloud-tail'
import { tempDir } from '../../helpers/core'
import { freePort, type Mosquitto, startMosquitto } from '../../helpers/mosquitto'
import { startProxy } from '../../helpers/tcp-proxy'

// `edgetwin cloud-tail` (dist/cli.js) against a real mosquitto standing in for the cloud broker;
// the batches are built by hand, as the edge's sync service publishes them: every kind on the site's
// one upstream topic, a batch possibly mixing kinds.

let sites = 0
/** Each test its own site, so no test sees another's items or sessions. */
const newSite = () => `plant-${process.pid}-${++sites}`

function item(
  site: string,
  seq: number,
  kind: UpKind,
  fields: Record<string, unknown> = {},
  stream = 'edge-a',
) {
  return {
    id: `${site}/${stream}/${seq}`,
    seq,
    kind,
    entity: 'device/press//',
    queuedAt: 1_700_000_000_000 + seq * 1000,
    ...fields,
  } satisfies UpItem
}

interface Publish {
  items: UpItem[]
  stream?: string
  /** Plain JSON instead of gzip (the protocol takes both). */
  plain?: boolean
  /** Default: the site's upstream topic. */
  topic?: string
}

/** The payload of one batch message, as the edge sends it. */
async function payloadOf(
  site: string,
  { items, stream = 'edge-a', plain = false }: Publish,
): Promise<Buffer> {
  const json = JSON.stringify({ v: PROTOCOL_VERSION, site, stream, items })
  return plain ? Buffer.from(json) : encodeBatch(json)
}

/**
 * Publishes QoS 1 on the site's upstream topic (raw payloads too), one after the other, each call on
 * a fresh connection (brokers restart here). The bytes published on that topic.
 */
async function publish(
  url: string,
  site: string,
  messages: Array<Publish | Buffer>,
  connect: IClientOptions = {},
): Promise<number> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...connect })
  let bytes = 0
  try {
    for (const message of messages) {
      const payload = Buffer.isBuffer(message) ? message : await payloadOf(site, message)
      const topic = (!Buffer.isBuffer(message) && message.topic) || upTopic(site)
      await client.publishAsync(topic, payload, { qos: 1 })
      if (topic === upTopic(site)) bytes += payload.length
    }
  } finally {
    await client.endAsync()
  }
  return bytes
}

const printed = (site: string, items: UpItem[], stream = 'edge-a') =>
  items.map((i) => ({ ...i, site, stream }))
const ids = (items: TailItem[]) => items.map((i) => i.id)
const stderrLines = (tail: CloudTail) => tail.stderr().split('\n').filter(Boolean)

describe('edgetwin cloud-tail', () => {
  const processes = new CliProcesses()
  let broker: Mosquitto

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true })
  })
  afterEach(() => processes.cleanup())
  afterAll(async () => {
    await broker?.dispose()
  })

  it('prints each item once, from gzip and plain JSON batches, redeliveries and resends included', async () => {
    const site = newSite()
    const tail = await startCloudTail(processes, ['--url', broker.url, '--site-id', site, '--stats'])
    // An entity's registration, then its data, in one batch of mixed kinds.
    const first = [
      item(site, 1, 'entity', { type: 'device', name: 'press' }),
      item(site, 2, 'measurements', { series: { temperature: 71.9 } }),
      item(site, 3, 'twin', { key: 'mode', value: 'auto' }),
    ]
    const resend = [
      ...first.slice(1),
      item(site, 4, 'event', { type: 'door', text: 'opened' }),
      item(site, 5, 'alarm', { type: 'overheat', severity: 'major' }),
    ]
    const other = [item(site, 1, 'alarm', { type: 'overheat', severity: 'major' }, 'edge-b')]
    const bytes = await publish(broker.url, site, [
      { items: first },
      { items: first }, // a QoS 1 redelivery: the same batch again
      { items: resend, plain: true }, // a resend from the oldest unacknowledged item, overlapping
      { items: other, stream: 'edge-b' }, // another data dir of the same site: its own seqs
      { items: [item(site, 6, 'health', { status: 'up' })] },
    ])

    await tail.waitFor((items) => items.some((i) => i.seq === 6))
    expect(tail.items).toEqual([
      ...printed(site, first),
      ...printed(site, resend.slice(2)),
      ...printed(site, other, 'edge-b'),
      ...printed(site, [item(site, 6, 'health', { status: 'up' })]),
    ])
    expect(await tail.stop()).toEqual({ code: 0, signal: null })
    const stats = JSON.parse(stderrLines(tail).at(-1) as string)
    expect(stats).toEqual({ messages: 5, items: 7, duplicates: 5, invalid: 0, bytes })
  })

  it("hears the site's one upstream topic only", async () => {
    const site = newSite()
    const neighbour = newSite()
    const tail = await startCloudTail(processes, ['--url', broker.url, '--site-id', site, '--stats'])
    expect(stderrLines(tail)).toEqual([`cloud-tail: subscribed to ${upTopic(site)} on ${broker.url}`])
    const stray = [item(site, 1, 'event')]
    const bytes = await publish(broker.url, site, [
      // The per-kind topics of earlier versions are not part of the protocol any more.
      { items: stray, topic: `${upTopic(site)}/event` },
      { items: stray, topic: `${upTopic(site)}/event/extra` },
      // Another site's upstream, the site's own downstream, another namespace.
      { items: [item(neighbour, 1, 'event')], topic: upTopic(neighbour) },
      { items: stray, topic: downTopic(site, 'alarm') },
      { items: stray, topic: `edgetwin/v2/${site}/up` },
      { items: [item(site, 1, 'alarm', { type: 'overheat' })] },
    ])

    await tail.waitFor((items) => items.length === 1)
    expect(tail.items).toEqual(printed(site, [item(site, 1, 'alarm', { type: 'overheat' })]))
    expect(await tail.stop()).toEqual({ code: 0, signal: null })
    const stats = JSON.parse(stderrLines(tail).at(-1) as string)
    expect(stats).toEqual({ messages: 1, items: 1, duplicates: 0, invalid: 0, bytes })
  })

  it('prints items of every kind in the order they were published, batch after batch', async () => {
    const site = newSite()
    const tail = await startCloudTail(processes, ['--url', broker.url, '--site-id', site])
    // Forty batches of 1 to 3 items, cycling through every kind, published without waiting for
    // their acknowledgements: only one topic keeps them in order.
    const batches: UpItem[][] = []
    let seq = 0
    for (let b = 0; b < 40; b++)
      batches.push(
        Array.from({ length: (b % 3) + 1 }, () => {
          seq++
          return item(site, seq, UP_KINDS[seq % UP_KINDS.length] as UpKind, { n: seq })
        }),
      )
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
    try {
      const payloads = await Promise.all(batches.map((items) => payloadOf(site, { items })))
      await Promise.all(payloads.map((payload) => client.publishAsync(upTopic(site), payload, { qos: 1 })))
    } finally {
      await client.endAsync()
    }

    await tail.waitFor((items) => items.length === seq)
    expect(tail.items.map((i) => i.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1))
    expect(tail.items).toEqual(printed(site, batches.flat()))
    expect(new Set(tail.items.map((i) => i.kind))).toEqual(new Set(UP_KINDS))
  })

  it('skips an invalid message with one line on stderr and keeps going', async () => {
    const site = newSite()
    const tail = await startCloudTail(processes, ['--url', broker.url, '--site-id', site, '--stats'])
    const raw = (value: unknown) => Buffer.from(JSON.stringify(value))
    const batch = (items: unknown[]) => ({ v: 1, site, stream: 'edge-a', items })
    // A gzip bomb: 17 MiB of zeros in about 17 kB, one MiB beyond what a payload may inflate to.
    const bomb = gzipSync(Buffer.alloc(17 * 1024 * 1024))
    // Every skipped batch carries higher seqs than the valid one at the end: none may move a mark.
    await publish(broker.url, site, [
      Buffer.from('not json'),
      gzipSync('{"v":1,'),
      bomb,
      raw({ v: 2, site, stream: 'edge-a', items: [] }),
      raw(batch([{ seq: 9 }])),
      raw(batch([{ ...item(site, 9, 'event'), seq: 0 }])),
      raw(batch([{ ...item(site, 9, 'event'), entity: undefined }])),
      // One bad item spoils its whole batch, the good item before it included.
      raw(batch([item(site, 9, 'event'), { ...item(site, 10, 'event'), kind: 'up' }])),
      raw({ v: 1, site: 'elsewhere', stream: 'edge-a', items: [item(site, 9, 'event')] }),
      { items: [item(site, 1, 'event'), item(site, 2, 'alarm', { type: 'overheat' })] },
    ])

    await tail.waitFor((items) => items.length === 2)
    expect(ids(tail.items)).toEqual([`${site}/edge-a/1`, `${site}/edge-a/2`])
    const skipped = stderrLines(tail).filter((line) => line.startsWith('cloud-tail: skipped'))
    const topic = upTopic(site)
    expect(skipped).toEqual([
      expect.stringMatching(new RegExp(`^cloud-tail: skipped a message on ${topic}: cannot decode: .*JSON`)),
      expect.stringMatching(new RegExp(`^cloud-tail: skipped a message on ${topic}: cannot decode: .*JSON`)),
      `cloud-tail: skipped a message on ${topic}: cannot decode: Cannot create a Buffer larger than 16777216 bytes`,
      `cloud-tail: skipped a message on ${topic}: unsupported protocol version 2`,
      `cloud-tail: skipped a message on ${topic}: item 9 lacks its id, entity or queuedAt`,
      `cloud-tail: skipped a message on ${topic}: an item lacks its seq (a positive integer)`,
      `cloud-tail: skipped a message on ${topic}: item 9 lacks its id, entity or queuedAt`,
      `cloud-tail: skipped a message on ${topic}: item 10 has an unknown kind "up"`,
      `cloud-tail: skipped a message on ${topic}: batch of site "elsewhere"`,
    ])
    expect(tail.cli.child.exitCode).toBeNull()
    expect(await tail.stop()).toEqual({ code: 0, signal: null })
    const stats = JSON.parse(stderrLines(tail).at(-1) as string)
    expect(stats).toMatchObject({ messages: 10, items: 2, duplicates: 0, invalid: 9 })
  })

  it('prints only the --kinds asked for and exits 0 after --count items', async () => {
    const site = newSite()
    const tail = await startCloudTail(processes, [
      '--url',
      broker.url,
      '--site-id',
      site,
      '--kinds',
      'alarm,event',
      '--count',
      '2',
    ])
    await publish(broker.url, site, [
      {
        items: [
          item(site, 1, 'measurements'),
          item(site, 2, 'measurements'),
          item(site, 3, 'alarm', { type: 'overheat' }),
          item(site, 4, 'twin', { key: 'mode', value: 'auto' }),
        ],
      },
      { items: [item(site, 5, 'event', { type: 'door' }), item(site, 6, 'health'), item(site, 7, 'event')] },
    ])

    // The second item asked for is the first event of the second batch: the tail stops right there.
    expect(await tail.cli.exited).toEqual({ code: 0, signal: null })
    expect(tail.items.map((i) => [i.seq, i.kind])).toEqual([
      [3, 'alarm'],
      [5, 'event'],
    ])
  })

  it('ends after --timeout, with status 1 when --count items were not all printed', async () => {
    const site = newSite()
    const short = await startCloudTail(processes, [
      '--url',
      broker.url,
      '--site-id',
      site,
      '--timeout',
      '0.5',
    ])
    expect(await short.cli.exited).toEqual({ code: 0, signal: null })

    const waiting = await startCloudTail(processes, [
      ...['--url', broker.url, '--site-id', site, '--count', '3', '--timeout', '1'],
    ])
    await publish(broker.url, site, [{ items: [item(site, 1, 'event')] }])
    expect(await waiting.cli.exited).toEqual({ code: 1, signal: null })
    expect(waiting.items).toHaveLength(1)
    expect(stderrLines(waiting).at(-1)).toBe('edgetwin: timed out after 1 s with 1 of 3 items printed')
  })

  it('exits 1 with one clear line when nothing listens at --url', async () => {
    const port = await freePort()
    const cli = processes.run(['cloud-tail', '--url', `mqtt://127.0.0.1:${port}`, '--site-id', 'plant-1'])
    expect(await cli.exited).toEqual({ code: 1, signal: null })
    expect(cli.stderr()).toBe(`edgetwin: cannot connect to mqtt://127.0.0.1:${port}: ECONNREFUSED\n`)
    expect(cli.stdout()).toBe('')
  })

  it('rejects bad arguments with status 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--site-id', 'plant-1'], 'cloud-tail needs --url'],
      [['--url', broker.url], 'cloud-tail needs --site-id ID'],
      [['--url', broker.url, '--site', 'plant-1'], 'unknown option --site (try: edgetwin cloud-tail --help)'],
      [['--url', broker.url, '--site-id', 'plant/1'], '--site-id: site id "plant/1" must be'],
      [['--url', broker.url, '--site-id', 'p', '--kinds', 'alarm,bogus'], '--kinds: "bogus" is not one of'],
      [['--url', broker.url, '--site-id', 'p', '--count', '0'], '--count must be an integer'],
      [['--url', broker.url, '--site-id', 'p', '--cert', 'c.pem'], '--cert and --key go together'],
    ]
    const runs = cases.map(([args]) => processes.run(['cloud-tail', ...args]))
    for (const [i, cli] of runs.entries()) {
      const [args, message] = cases[i] as [string[], string]
      expect(await cli.exited, args.join(' ')).toEqual({ code: 2, signal: null })
      expect(cli.stderr()).toMatch(/^edgetwin: [^\n]+\n$/)
      expect(cli.stderr()).toContain(message)
    }
  })

  it('with --session, prints what was published while it was not running', async () => {
    const site = newSite()
    const args = ['--url', broker.url, '--site-id', site, '--session', 'audit']
    const first = await startCloudTail(processes, args)
    expect(first.stderr()).toContain('(session "audit", new)')
    await publish(broker.url, site, [{ items: [item(site, 1, 'event')] }])
    await first.waitFor((items) => items.length === 1)
    expect(await first.stop()).toEqual({ code: 0, signal: null })

    const meanwhile = [
      item(site, 2, 'alarm', { type: 'overheat' }),
      item(site, 3, 'operation', { operation: 'restart', status: 'pending' }),
    ]
    await publish(broker.url, site, [{ items: meanwhile }, { items: [item(site, 4, 'event')] }])

    const second = await startCloudTail(processes, args)
    expect(second.stderr()).toContain('(session "audit", resumed)')
    await second.waitFor((items) => items.length === 3)
    expect(second.items).toEqual(printed(site, [...meanwhile, item(site, 4, 'event')]))
  })

  it('leaves a message cut short by --count to the next run of its session, whole', async () => {
    const site = newSite()
    const args = ['--url', broker.url, '--site-id', site, '--session', 'sample']
    const first = await startCloudTail(processes, [...args, '--count', '2'])
    const batch = [item(site, 1, 'entity'), item(site, 2, 'desired', { version: 1 }), item(site, 3, 'event')]
    await publish(broker.url, site, [{ items: batch }])
    expect(await first.cli.exited).toEqual({ code: 0, signal: null })
    expect(first.items).toEqual(printed(site, batch.slice(0, 2)))

    // Not acknowledged, so redelivered: at least once, and the ids tell the copies apart.
    const second = await startCloudTail(processes, args)
    await second.waitFor((items) => items.length === 3)
    expect(second.items).toEqual(printed(site, batch))
  })
})

describe('edgetwin cloud-tail across outages', () => {
  const processes = new CliProcesses()
  let broker: Mosquitto

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true })
  })
  afterEach(() => processes.cleanup())
  afterAll(async () => {
    await broker?.dispose()
  })

  it('reconnects quietly after a broker restart and resumes its session', async () => {
    const site = newSite()
    const tail = await startCloudTail(processes, ['--url', broker.url, '--site-id', site, '--session', 'ops'])
    await publish(broker.url, site, [{ items: [item(site, 1, 'event')] }])
    await tail.waitFor((items) => items.length === 1)

    await broker.restart()
    // Published right away: queued in the persisted session until the tail is back.
    await publish(broker.url, site, [{ items: [item(site, 2, 'event')] }])
    await tail.waitFor((items) => items.length === 2)
    expect(ids(tail.items)).toEqual([`${site}/edge-a/1`, `${site}/edge-a/2`])
    expect(stderrLines(tail)).toEqual([expect.stringMatching(/^cloud-tail: subscribed to /)])
  })

  it('keeps a session queued across a broker restart while the tail is away', async () => {
    const site = newSite()
    const args = ['--url', broker.url, '--site-id', site, '--session', 'night']
    const first = await startCloudTail(processes, args)
    await first.stop()
    await publish(broker.url, site, [{ items: [item(site, 1, 'event'), item(site, 2, 'event')] }])
    await broker.restart()

    const second = await startCloudTail(processes, args)
    await second.waitFor((items) => items.length === 2)
    expect(ids(second.items)).toEqual([`${site}/edge-a/1`, `${site}/edge-a/2`])
  })

  it('gets what was published during a network outage once the network is back', async () => {
    const site = newSite()
    const proxy = await startProxy(broker.port)
    try {
      const tail = await startCloudTail(processes, [
        '--url',
        proxy.url,
        '--site-id',
        site,
        '--session',
        'wan',
      ])
      await publish(broker.url, site, [{ items: [item(site, 1, 'event')] }])
      await tail.waitFor((items) => items.length === 1)
      const before = proxy.bytes.down

      proxy.cut()
      await publish(broker.url, site, [
        { items: [item(site, 2, 'event')] },
        { items: [item(site, 3, 'alarm')] },
      ])
      proxy.restore()

      await tail.waitFor((items) => items.length === 3)
      expect(ids(tail.items)).toEqual([1, 2, 3].map((seq) => `${site}/edge-a/${seq}`))
      expect(proxy.connections).toBeGreaterThanOrEqual(2)
      expect(proxy.bytes.down).toBeGreaterThan(before)
      expect(proxy.bytes.up).toBeGreaterThan(0)
      expect(stderrLines(tail)).toHaveLength(1)
    } finally {
      await proxy.stop()
    }
  })
})

describe('edgetwin cloud-tail with TLS and passwords', () => {
  const processes = new CliProcesses()
  let certs: TestCerts
  let broker: Mosquitto

  beforeAll(async () => {
    certs = await generateCerts()
    broker = await startMosquitto({
      tls: { ca: certs.ca.cert, cert: certs.server.cert, key: certs.server.key, requireCertificate: true },
    })
  })
  afterEach(() => processes.cleanup())
  afterAll(async () => {
    await broker?.dispose()
    if (certs) rmSync(certs.dir, { recursive: true, force: true })
  })

  it('receives over mqtts with a client certificate', async () => {
    const site = newSite()
    const tls = ['--ca', certs.ca.cert, '--cert', certs.client.cert, '--key', certs.client.key]
    const tail = await startCloudTail(processes, [
      '--url',
      broker.tlsUrl as string,
      '--site-id',
      site,
      ...tls,
    ])
    await publish(broker.url, site, [{ items: [item(site, 1, 'alarm', { type: 'overheat' })] }])
    await tail.waitFor((items) => items.length === 1)
    expect(tail.items).toEqual(printed(site, [item(site, 1, 'alarm', { type: 'overheat' })]))
  })

  it('cannot connect without a client certificate, or without trusting the CA', async () => {
    const noCert = processes.run([
      'cloud-tail',
      '--url',
      broker.tlsUrl as string,
      '--site-id',
      'p',
      '--ca',
      certs.ca.cert,
    ])
    const noCa = processes.run(['cloud-tail', '--url', broker.tlsUrl as string, '--site-id', 'p'])
    for (const cli of [noCert, noCa]) {
      expect(await cli.exited).toEqual({ code: 1, signal: null })
      expect(cli.stderr()).toMatch(new RegExp(`^edgetwin: cannot connect to ${broker.tlsUrl}: .+\\n$`))
    }
    expect(noCert.stderr()).toMatch(/certificate required/)
    expect(noCa.stderr()).toMatch(/unable to verify|self[- ]signed/)
  })

  it('logs in with --username and --password', async () => {
    const dir = tempDir('edgetwin-passwd-')
    const passwordFile = path.join(dir, 'passwd')
    execFileSync('mosquitto_passwd', ['-c', '-b', passwordFile, 'cloud', 'correct horse'])
    const secured = await startMosquitto({ passwordFile })
    try {
      const site = newSite()
      const wrong = processes.run([
        'cloud-tail',
        '--url',
        secured.url,
        '--site-id',
        site,
        '--username',
        'cloud',
        '--password',
        'wrong',
      ])
      expect(await wrong.exited).toEqual({ code: 1, signal: null })
      expect(wrong.stderr()).toMatch(
        new RegExp(`^edgetwin: cannot connect to ${secured.url}: .*(authori|password)`, 'i'),
      )

      const tail = await startCloudTail(processes, [
        ...['--url', secured.url, '--site-id', site, '--username', 'cloud', '--password', 'correct horse'],
      ])
      const login = { username: 'cloud', password: 'correct horse' }
      await publish(secured.url, site, [{ items: [item(site, 1, 'event')] }], login)
      await tail.waitFor((items) => items.length === 1)
    } finally {
      await secured.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
