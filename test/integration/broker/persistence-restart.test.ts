import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Aedes, type AedesOptions, type AedesPublishPacket } from 'aedes'
import Database from 'better-sqlite3'
import { connect, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { brokerSchemaSql } from '../../../src-main/core/broker/persistence-schema'
import { createSqlitePersistence, SqlitePersistence } from '../../../src-main/core/broker/sqlite-persistence'

let directory: string
let databaseFile: string
// Undone in reverse order after each test, whatever the test reached.
let cleanups: (() => Promise<void> | void)[]

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'edgetwin-persistence-restart-'))
  databaseFile = join(directory, 'edgetwin.db')
  cleanups = [() => rmSync(directory, { recursive: true, force: true })]
  const db = new Database(databaseFile)
  db.pragma('journal_mode = WAL')
  db.exec(brokerSchemaSql)
  db.close()
})

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

function openDatabase(): Database.Database {
  const db = new Database(databaseFile)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  cleanups.push(() => {
    if (db.open) db.close()
  })
  return db
}

interface RunningBroker {
  broker: Aedes
  port: number
  stop(): Promise<void>
}

async function startBroker(db: Database.Database, options: AedesOptions = {}): Promise<RunningBroker> {
  const persistence = createSqlitePersistence(db)
  const broker = await Aedes.createBroker({ ...options, persistence })
  const server = createServer((socket) => broker.handle(socket))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await persistence.destroy()
  }
  cleanups.push(stop)
  return { broker, port: (server.address() as AddressInfo).port, stop }
}

/** Resolves once aedes has run the whole publish chain (retained store, offline queues) for `count` packets. */
function published(broker: Aedes, topicPrefix: string, count = 1): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const onPublish = (packet: AedesPublishPacket) => {
      if (packet.topic.startsWith(topicPrefix) && ++seen === count) {
        broker.off('publish', onPublish)
        resolve()
      }
    }
    broker.on('publish', onPublish)
  })
}

function clientDisconnected(broker: Aedes, clientId: string): Promise<void> {
  return new Promise((resolve) => {
    broker.on('clientDisconnect', (client) => {
      if (client.id === clientId) resolve()
    })
  })
}

/** Connects with listeners in place before CONNACK, so messages queued for the session are not missed. */
async function connectClient(
  port: number,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; sessionPresent: boolean; messages: IPublishPacket[] }> {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options })
  cleanups.push(() => client.endAsync(true))
  const messages: IPublishPacket[] = []
  client.on('message', (_topic, _payload, packet) => messages.push(packet))
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  return { client, sessionPresent: connack.sessionPresent, messages }
}

// vi.waitFor's default of 1 s is short for a broker restart on a busy CI machine.
const eventually = { timeout: 5_000 }

function count(db: Database.Database, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
}

describe('SqlitePersistence reopened on the same database', () => {
  it('restores every kind of state exactly, wills keeping the id of the broker that held them', async () => {
    const first = new SqlitePersistence({ db: openDatabase() })
    await first.setup({ id: 'broker-a' })
    const properties = { correlationData: Buffer.from([1, 2, 3]), userProperties: { line: ['1', '2'] } }
    const retained = {
      cmd: 'publish',
      topic: 'site/state',
      payload: Buffer.from([0, 255]),
      qos: 1,
      retain: true,
    }
    await first.storeRetained({ ...retained, brokerId: 'broker-a', brokerCounter: 7, messageId: undefined })
    const subscription = { topic: 'site/#', qos: 1, rh: 0, rap: true, nl: false, subscriptionIdentifier: 9 }
    await first.addSubscriptions({ id: 'agent' }, [subscription, { topic: 'quiet', qos: 0 }])
    const queued = { cmd: 'publish', topic: 'site/a', qos: 2, retain: false, dup: false, properties }
    await first.outgoingEnqueueCombi([{ clientId: 'agent' }, { clientId: 'other' }], {
      ...queued,
      payload: Buffer.from('a'),
      brokerId: 'broker-a',
      brokerCounter: 8,
    })
    await first.outgoingEnqueue(
      { clientId: 'agent' },
      { ...queued, payload: 'text', brokerId: 'broker-a', brokerCounter: 9 },
    )
    await first.outgoingUpdate({ id: 'agent' }, { brokerId: 'broker-a', brokerCounter: 8, messageId: 41 })
    await first.outgoingUpdate({ id: 'agent' }, { brokerId: 'broker-a', brokerCounter: 9, messageId: 42 })
    await first.outgoingUpdate({ id: 'agent' }, { cmd: 'pubrel', messageId: 41 })
    const incoming = {
      cmd: 'publish',
      topic: 'in',
      payload: Buffer.from('q2'),
      qos: 2,
      messageId: 5,
      properties,
    }
    await first.incomingStorePacket({ id: 'sensor' }, incoming)
    await first.putWill(
      { id: 'sensor' },
      { topic: 'sensor/gone', payload: Buffer.from('x'), qos: 1, retain: true },
    )
    await first.destroy()

    const second = new SqlitePersistence({ db: openDatabase() })
    await second.setup({ id: 'broker-b' })
    expect(await second.createRetainedStream('#').toArray()).toStrictEqual([
      { ...retained, brokerId: 'broker-a', brokerCounter: 7, messageId: undefined },
    ])
    expect(await second.subscriptionsByClient({ id: 'agent' })).toStrictEqual([
      subscription,
      { topic: 'quiet', qos: 0, rh: undefined, rap: undefined, nl: undefined },
    ])
    expect(await second.subscriptionsByTopic('site/x')).toStrictEqual([
      { clientId: 'agent', topic: 'site/#', qos: 1, rh: 0, rap: true, nl: false },
    ])
    expect(await second.countOffline()).toStrictEqual({ subsCount: 1, clientsCount: 1 })
    expect(await second.outgoingStream({ id: 'agent' }).toArray()).toStrictEqual([
      { cmd: 'pubrel', messageId: 41 },
      { ...queued, payload: 'text', brokerId: 'broker-a', brokerCounter: 9, messageId: 42 },
    ])
    expect(await second.outgoingStream({ id: 'other' }).toArray()).toStrictEqual([
      { ...queued, payload: Buffer.from('a'), brokerId: 'broker-a', brokerCounter: 8, messageId: undefined },
    ])
    expect({ ...(await second.incomingGetPacket({ id: 'sensor' }, { messageId: 5 })) }).toStrictEqual({
      ...incoming,
      brokerId: undefined,
      brokerCounter: 0,
      retain: false,
      dup: false,
    })
    const will = { topic: 'sensor/gone', payload: Buffer.from('x'), qos: 1, retain: true, clientId: 'sensor' }
    expect(await second.getWill({ id: 'sensor' })).toStrictEqual({ ...will, brokerId: 'broker-a' })
    expect(await second.streamWill({ 'broker-b': Date.now() }).toArray()).toHaveLength(1)
    await second.destroy()
  })
})

describe('aedes on SqlitePersistence across a restart', () => {
  it('keeps a retained message', async () => {
    const firstDb = openDatabase()
    const first = await startBroker(firstDb)
    const publisher = await connectClient(first.port)
    const stored = published(first.broker, 'site/line1/state')
    await publisher.client.publishAsync('site/line1/state', Buffer.from([0, 1, 255]), {
      qos: 1,
      retain: true,
    })
    await stored
    await first.stop()
    firstDb.close()

    const second = await startBroker(openDatabase())
    const subscriber = await connectClient(second.port)
    await subscriber.client.subscribeAsync('site/#', { qos: 1 })
    await vi.waitFor(() => expect(subscriber.messages).toHaveLength(1), eventually)
    expect(subscriber.messages[0]).toMatchObject({
      topic: 'site/line1/state',
      payload: Buffer.from([0, 1, 255]),
      retain: true,
    })
  })

  it('delivers QoS 1 messages queued for an offline clean=false session', async () => {
    const firstDb = openDatabase()
    const first = await startBroker(firstDb)
    const agent = await connectClient(first.port, { clientId: 'line-agent', clean: false })
    await agent.client.subscribeAsync('cmd/#', { qos: 1 })
    const gone = clientDisconnected(first.broker, 'line-agent')
    await agent.client.endAsync()
    await gone

    const operator = await connectClient(first.port)
    const queued = published(first.broker, 'cmd/', 3)
    for (const n of [1, 2, 3]) await operator.client.publishAsync(`cmd/${n}`, `start ${n}`, { qos: 1 })
    await queued
    expect(count(firstDb, 'broker_outgoing')).toBe(3)
    await first.stop()
    firstDb.close()

    const secondDb = openDatabase()
    const second = await startBroker(secondDb)
    const back = await connectClient(second.port, { clientId: 'line-agent', clean: false })
    expect(back.sessionPresent).toBe(true)
    await vi.waitFor(() => expect(back.messages).toHaveLength(3), eventually)
    expect(back.messages.map((m) => [m.topic, m.payload.toString(), m.qos])).toStrictEqual([
      ['cmd/1', 'start 1', 1],
      ['cmd/2', 'start 2', 1],
      ['cmd/3', 'start 3', 1],
    ])
    // PUBACKs from the client clear the queue
    await vi.waitFor(() => expect(count(secondDb, 'broker_outgoing')).toBe(0), eventually)
  })
})

describe('aedes on SqlitePersistence without a restart', () => {
  it('empties the queue of a clean=false session after concurrent QoS 2 deliveries', async () => {
    const db = openDatabase()
    const running = await startBroker(db)
    const agent = await connectClient(running.port, { clientId: 'recipe-agent', clean: false })
    await agent.client.subscribeAsync('recipe/#', { qos: 2 })
    const operator = await connectClient(running.port)
    const steps = [1, 2, 3, 4, 5]
    await Promise.all(steps.map((n) => operator.client.publishAsync(`recipe/${n}`, `step ${n}`, { qos: 2 })))
    await vi.waitFor(() => expect(agent.messages).toHaveLength(steps.length), eventually)
    // Each PUBCOMP removes its PUBREL; a leftover row would be delivered again at the next reconnect.
    await vi.waitFor(() => expect(count(db, 'broker_outgoing')).toBe(0), eventually)
  })
})

/** A broker in a child process (node --import tsx) on the test's database, to be killed with SIGKILL. */
class ChildBroker {
  readonly #child: ChildProcess
  readonly #events: Record<string, string>[] = []
  readonly #waiters = new Set<() => void>()
  #stderr = ''

  static async start(): Promise<ChildBroker> {
    const require = createRequire(import.meta.url)
    const moduleUrl = (path: string) => pathToFileURL(path).href
    const persistencePath = fileURLToPath(
      new URL('../../../src-main/core/broker/sqlite-persistence.ts', import.meta.url),
    )
    const script = join(directory, 'broker-child.mjs')
    writeFileSync(
      script,
      `import { createServer } from 'node:net'
import { Aedes } from '${moduleUrl(require.resolve('aedes'))}'
import Database from '${moduleUrl(require.resolve('better-sqlite3'))}'
import { createSqlitePersistence } from '${moduleUrl(persistencePath)}'

const report = (event) => process.stdout.write(JSON.stringify(event) + '\\n')
const db = new Database(process.argv[2])
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
const broker = await Aedes.createBroker({ persistence: createSqlitePersistence(db) })
broker.on('publish', (packet) => {
  if (!packet.topic.startsWith('$SYS/')) report({ published: packet.topic })
})
broker.on('clientDisconnect', (client) => report({ disconnected: client.id }))
const server = createServer((socket) => broker.handle(socket))
server.listen(0, '127.0.0.1', () => report({ port: String(server.address().port) }))
`,
    )
    const child = new ChildBroker(
      spawn(process.execPath, ['--import', 'tsx', script, databaseFile], {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    cleanups.push(() => child.kill())
    await child.waitFor((event) => event.port !== undefined)
    return child
  }

  private constructor(child: ChildProcess) {
    this.#child = child
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString()
    })
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        this.#events.push(JSON.parse(line) as Record<string, string>)
        for (const wake of this.#waiters) wake()
      })
    }
    child.on('exit', () => {
      for (const wake of this.#waiters) wake()
    })
  }

  get port(): number {
    return Number(this.#events.find((event) => event.port !== undefined)?.port)
  }

  /** Resolves when the child has reported `count` events matching `match`. */
  waitFor(match: (event: Record<string, string>) => boolean, count = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#events.filter(match).length >= count) {
          this.#waiters.delete(check)
          resolve()
        } else if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
          this.#waiters.delete(check)
          reject(new Error(`broker child exited: ${this.#stderr}`))
        }
      }
      this.#waiters.add(check)
      check()
    })
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = once(this.#child, 'exit')
    process.kill(this.#child.pid as number, 'SIGKILL')
    await exited
  }
}

describe('aedes on SqlitePersistence after kill -9', () => {
  it('publishes the will of a client the killed broker held', async () => {
    const crashed = await ChildBroker.start()
    const pump = await connectClient(crashed.port, {
      clientId: 'pump-7',
      will: { topic: 'edge/status/pump-7', payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    await crashed.kill()
    pump.client.end(true)

    const db = openDatabase()
    expect(count(db, 'broker_wills')).toBe(1)
    // aedes sweeps wills of brokers without a heartbeat every 4 heartbeat intervals
    const restarted = await startBroker(db, { heartbeatInterval: 50 })
    const watcher = await connectClient(restarted.port)
    await watcher.client.subscribeAsync('edge/status/#', { qos: 1 })
    await vi.waitFor(() => expect(watcher.messages).toHaveLength(1), eventually)
    expect(watcher.messages[0]).toMatchObject({
      topic: 'edge/status/pump-7',
      payload: Buffer.from('offline'),
    })
    await vi.waitFor(() => expect(count(db, 'broker_wills')).toBe(0), eventually)
  })

  it('keeps retained messages and offline QoS 1 queues, and the database passes integrity_check', async () => {
    const crashed = await ChildBroker.start()
    const agent = await connectClient(crashed.port, { clientId: 'plant-agent', clean: false })
    await agent.client.subscribeAsync('plant/#', { qos: 1 })
    await agent.client.endAsync()
    await crashed.waitFor((event) => event.disconnected === 'plant-agent')

    const sensor = await connectClient(crashed.port)
    await sensor.client.publishAsync('plant/state', 'running', { qos: 1, retain: true })
    for (const n of [1, 2, 3]) await sensor.client.publishAsync(`plant/line/${n}`, `${n * 10}`, { qos: 1 })
    await crashed.waitFor((event) => event.published?.startsWith('plant/') === true, 4)
    await crashed.kill()
    sensor.client.end(true)

    const db = openDatabase()
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    const restarted = await startBroker(db)
    const viewer = await connectClient(restarted.port)
    await viewer.client.subscribeAsync('plant/state', { qos: 1 })
    await vi.waitFor(() => expect(viewer.messages).toHaveLength(1), eventually)
    expect(viewer.messages[0]).toMatchObject({ topic: 'plant/state', payload: Buffer.from('running') })

    const back = await connectClient(restarted.port, { clientId: 'plant-agent', clean: false })
    expect(back.sessionPresent).toBe(true)
    await vi.waitFor(() => expect(back.messages).toHaveLength(4), eventually)
    expect(back.messages.map((m) => [m.topic, m.payload.toString()])).toStrictEqual([
      ['plant/state', 'running'],
      ['plant/line/1', '10'],
      ['plant/line/2', '20'],
      ['plant/line/3', '30'],
    ])
  })
})
