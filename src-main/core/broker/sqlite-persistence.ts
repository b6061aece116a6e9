import { Readable } from 'node:stream'
import MemoryPersistence, {
  type PersistenceBroker,
  type PersistenceClient,
  type PersistencePacket,
  type PersistenceSubscription,
} from 'aedes-persistence/asyncPersistence.js'
import { CallBackPersistence } from 'aedes-persistence/callBackPersistence.js'
import type { Database, Statement } from 'better-sqlite3'
import { QlobberTrue } from 'qlobber'
import QlobberSub from 'qlobber/aedes/qlobber-sub.js'
import { decodePacket, encodePacket, type PacketRow, replacer } from './packet-codec'

// [MQTT-4.7.1-3]: `+` matches an empty level too (`te/+/+/+/+` matches `te/device/main//`). aedes'
// live delivery does so; aedes-persistence's memory class does not, for retained messages and for the
// subscriptions of offline sessions, so this class matches both itself.
const MATCH = { separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true }

/** Bytes a retained message is counted for, besides its payload: its row, page and packet fields. */
const RETAINED_OVERHEAD = 256

/**
 * What a retained message takes in the database, roughly and deterministically: its payload, its topic
 * twice (the row and the primary key's index) and a fixed overhead. A 60,000-character topic costs as
 * much as its bytes say, however small its payload.
 */
export function retainedCost(topic: string, payloadBytes: number): number {
  return 2 * Buffer.byteLength(topic) + payloadBytes + RETAINED_OVERHEAD
}

export interface SqlitePersistenceOptions {
  /** An open database with `brokerSchemaSql` applied. The caller owns it and closes it after `destroy()`. */
  db: Database
  /** QoS 1/2 messages kept per persistent session; newer ones are dropped (default: no limit). */
  maxQueuedMessages?: number
  /** Told of each message dropped for a session whose queue is full. */
  onQueueFull?: (clientId: string) => void
}

/**
 * aedes persistence that survives a restart and a kill -9: aedes' in-memory store, with every change written
 * synchronously to SQLite before it is applied in memory, and everything reloaded from SQLite in `setup()`.
 *
 * Outgoing queues and retained payloads are the exceptions: they live in SQLite only. The memory class cannot
 * restore a queue exactly (its `outgoingEnqueue` resets `messageId`, and an entry replaced by a PUBREL cannot
 * be re-created through its public methods), and neither an offline client's queue nor retained payloads
 * (read when a subscription asks for them) have a reason to occupy the heap. The retained topics stay in
 * memory with what each message takes: looking a long topic up in the database's index twice per message
 * cost more CPU than anything else under a fuzz, and the retained store's bound bounds them too.
 */
export class SqlitePersistence extends MemoryPersistence {
  readonly #db: Database
  readonly #maxQueued: number
  readonly #onQueueFull: (clientId: string) => void
  #sql: Statements | null = null
  readonly #offline = new QlobberSub(MATCH)
  /** Every retained topic, in the order first retained, with what its message takes (`retainedCost`). */
  readonly #retained = new Map<string, number>()
  #retainedBytes = 0
  /** Client ids with stored subscriptions: the persistent sessions. */
  readonly #sessions = new Set<string>()

  constructor(options: SqlitePersistenceOptions) {
    super()
    this.#db = options.db
    this.#maxQueued = options.maxQueuedMessages ?? Number.POSITIVE_INFINITY
    this.#onQueueFull = options.onQueueFull ?? (() => {})
  }

  /** What every retained message takes in the database, in bytes (see `retainedCost`). */
  get retainedBytes(): number {
    return this.#retainedBytes
  }

  /** What the retained message of `topic` takes (see `retainedCost`); 0 when there is none. */
  retainedSize(topic: string): number {
    return this.#retained.get(topic) ?? 0
  }

  get sessionCount(): number {
    return this.#sessions.size
  }

  hasSession(clientId: string): boolean {
    return this.#sessions.has(clientId)
  }

  override async setup(broker: PersistenceBroker): Promise<void> {
    await super.setup(broker)
    this.#sql = prepareStatements(this.#db)
    await this.#load(this.#sql)
  }

  async #load(sql: Statements): Promise<void> {
    for (const { topic, bytes } of sql.retainedSizes.all()) {
      const cost = retainedCost(topic, bytes ?? 0)
      this.#retained.set(topic, cost)
      this.#retainedBytes += cost
    }

    const subscriptionsByClient = new Map<string, PersistenceSubscription[]>()
    for (const row of sql.subscriptionsAll.all()) {
      const options = JSON.parse(row.options) as Omit<PersistenceSubscription, 'topic' | 'qos'>
      const subscription = { topic: row.topic, qos: row.qos, ...options }
      const subscriptions = subscriptionsByClient.get(row.client_id)
      if (subscriptions) subscriptions.push(subscription)
      else subscriptionsByClient.set(row.client_id, [subscription])
    }
    for (const [id, subscriptions] of subscriptionsByClient) {
      this.#sessions.add(id)
      this.#track(id, subscriptions)
      await super.addSubscriptions({ id }, subscriptions)
    }

    for (const row of sql.incomingAll.all()) {
      await super.incomingStorePacket({ id: row.client_id }, decodePacket(row))
    }

    for (const row of sql.willsAll.all()) {
      const will = decodePacket(row)
      const brokerId = will.brokerId
      await super.putWill({ id: row.client_id }, will)
      // putWill stamps the current broker's id on the stored object. Restore the id of the broker that held
      // the client: that broker is gone, so aedes' will sweep (every 4 heartbeats) publishes the will.
      will.brokerId = brokerId
    }
  }

  #statements(): Statements {
    if (this.#sql === null) throw new Error('SqlitePersistence is not set up (or already destroyed)')
    return this.#sql
  }

  override async storeRetained(packet: PersistencePacket): Promise<void> {
    const sql = this.#statements()
    const topic = packet.topic ?? ''
    const before = this.retainedSize(topic)
    // [MQTT-3.3.1-10]: a retained message with an empty payload removes the retained message of its topic.
    if (packet.payload === undefined || packet.payload.length === 0) {
      sql.retainedDelete.run(topic)
      this.#retained.delete(topic)
      this.#retainedBytes -= before
    } else {
      // The topic has its own column (and the primary key's index): it is not repeated in the packet's JSON.
      const { topic: _, ...fields } = packet
      const { packet: json, payload } = encodePacket(fields)
      sql.retainedUpsert.run(topic, json, payload)
      const cost = retainedCost(topic, Buffer.byteLength(payload ?? ''))
      this.#retained.set(topic, cost)
      this.#retainedBytes += cost - before
    }
  }

  /**
   * The retained messages matching each filter in turn, in the order they were first retained; each payload
   * is read from the database as the stream is consumed.
   */
  *#matching(patterns: string[]): Generator<PersistencePacket> {
    for (const pattern of patterns) {
      const matcher = new QlobberTrue(MATCH).add(pattern)
      const topics = [...this.#retained.keys()].filter((topic) => matcher.test(topic))
      for (const topic of topics) {
        // A topic cleared since the list was read is skipped; `#sql` is null once destroyed.
        const row = this.#sql?.retainedByTopic.get(topic)
        if (row) yield { ...decodePacket(row), topic }
      }
    }
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.#matching([pattern]))
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(this.#matching(patterns))
  }

  override async addSubscriptions(client: PersistenceClient, subs: PersistenceSubscription[]): Promise<void> {
    this.#statements().addSubscriptions(client.id, subs)
    if (subs.length > 0) this.#sessions.add(client.id)
    this.#track(client.id, subs)
    await super.addSubscriptions(client, subs)
  }

  /** As the memory class: only QoS > 0 subscriptions have messages queued while the client is away. */
  #track(clientId: string, subs: PersistenceSubscription[]): void {
    for (const { topic, qos, rh, rap, nl } of subs) {
      if (qos > 0) this.#offline.add(topic, { clientId, topic, qos, rh, rap, nl })
      else this.#offline.remove(topic, { clientId, topic })
    }
  }

  override async removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<void> {
    const sql = this.#statements()
    sql.removeSubscriptions(client.id, topics)
    if (sql.subscriptionOfClient.get(client.id) === undefined) this.#sessions.delete(client.id)
    for (const topic of topics) this.#offline.remove(topic, { clientId: client.id, topic })
    await super.removeSubscriptions(client, topics)
  }

  override async cleanSubscriptions(client: PersistenceClient): Promise<void> {
    this.#statements().subscriptionsDeleteClient.run(client.id)
    this.#sessions.delete(client.id)
    for (const sub of await super.subscriptionsByClient(client))
      this.#offline.remove(sub.topic, { clientId: client.id, topic: sub.topic })
    await super.cleanSubscriptions(client)
  }

  override async subscriptionsByTopic(
    topic: string,
  ): Promise<(PersistenceSubscription & { clientId: string })[]> {
    return this.#offline.match(topic) as (PersistenceSubscription & { clientId: string })[]
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: PersistencePacket): Promise<void> {
    this.#enqueue([sub], packet)
  }

  /** Queues a packet for the sessions whose queue has room; for the others it is dropped, and they are told. */
  #enqueue(subs: { clientId: string }[], packet: PersistencePacket): void {
    const sql = this.#statements()
    const room: { clientId: string }[] = []
    for (const sub of subs) {
      const full =
        Number.isFinite(this.#maxQueued) && sql.queued.get(sub.clientId, this.#maxQueued) === this.#maxQueued
      if (full) this.#onQueueFull(sub.clientId)
      else room.push(sub)
    }
    if (room.length > 0) sql.enqueue(room, new MemoryPersistence.Packet(packet))
  }

  override async outgoingEnqueueCombi(
    subs: { clientId: string }[],
    packet: PersistencePacket,
  ): Promise<void> {
    // aedes calls this for every QoS 1/2 publish, usually with no offline-capable subscriber at all.
    if (subs.length === 0) return
    this.#enqueue(subs, packet)
  }

  // The first queued packet either from the same broker with the same counter (it gets the message id the
  // broker just assigned), or with the same message id and from another broker or none (it is replaced:
  // PUBLISH -> PUBREL in the QoS 2 flow). A PUBREL (no broker id, no counter) is matched by message id only.
  // aedes-persistence 11's memory class also matches it to any earlier PUBREL, both lacking a counter: with
  // two QoS 2 messages in flight the second PUBREC rewrites the first PUBREL and leaves the second PUBLISH
  // queued, to be delivered again at the next reconnect.
  override async outgoingUpdate(client: PersistenceClient, packet: PersistencePacket): Promise<void> {
    const sql = this.#statements()
    const brokerId = packet.brokerId ?? null
    const messageId = packet.messageId ?? null
    const row = sql.outgoingFind.get({
      clientId: client.id,
      brokerId,
      brokerCounter: packet.brokerCounter ?? null,
      messageId,
    })
    if (row === undefined) throw new Error('no such packet')
    if (brokerId !== null && row.broker_id === brokerId) {
      const fields = JSON.parse(row.packet) as Record<string, unknown>
      fields.messageId = packet.messageId
      sql.outgoingSetMessageId.run(messageId, JSON.stringify(fields, replacer), row.seq)
    } else {
      const encoded = encodePacket(packet)
      sql.outgoingReplace.run(
        brokerId,
        packet.brokerCounter ?? null,
        messageId,
        encoded.packet,
        encoded.payload,
        row.seq,
      )
    }
  }

  override async outgoingClearMessageId(
    client: PersistenceClient,
    packet: PersistencePacket,
  ): Promise<PersistencePacket | undefined> {
    const row = this.#statements().outgoingClear.get(client.id, packet.messageId ?? null)
    return row === undefined ? undefined : decodePacket(row)
  }

  /**
   * Whether the client's queue holds `packet` and it was not sent yet: no packet identifier given to it (aedes
   * gives one as it sends, live or in the replay at a reconnect) and not acknowledged (which removes it).
   */
  outgoingUnsent(clientId: string, packet: Pick<PersistencePacket, 'brokerId' | 'brokerCounter'>): boolean {
    const row = this.#statements().outgoingUnsent.get(
      clientId,
      packet.brokerId ?? null,
      packet.brokerCounter ?? null,
    )
    return row !== undefined
  }

  override outgoingStream(client: PersistenceClient): Readable {
    const rows = this.#statements().outgoingByClient.all(client.id)
    return Readable.from(rows.map(decodePacket))
  }

  override async incomingStorePacket(client: PersistenceClient, packet: PersistencePacket): Promise<void> {
    // Stored as the memory class keeps it, so the reload in setup() reproduces the same object.
    const stored = new MemoryPersistence.Packet(packet)
    stored.messageId = packet.messageId
    const { packet: json, payload } = encodePacket(stored)
    this.#statements().incomingUpsert.run(client.id, packet.messageId, json, payload)
    await super.incomingStorePacket(client, packet)
  }

  override async incomingDelPacket(client: PersistenceClient, packet: PersistencePacket): Promise<void> {
    this.#statements().incomingDelete.run(client.id, packet.messageId)
    await super.incomingDelPacket(client, packet)
  }

  override async cleanIncoming(client: PersistenceClient): Promise<void> {
    this.#statements().incomingDeleteClient.run(client.id)
    await super.cleanIncoming(client)
  }

  override async putWill(client: PersistenceClient, packet: PersistencePacket): Promise<void> {
    const sql = this.#statements()
    const { packet: json, payload } = encodePacket({
      ...packet,
      brokerId: this.broker.id,
      clientId: client.id,
    })
    sql.willUpsert.run(client.id, json, payload)
    await super.putWill(client, packet)
  }

  override async delWill(client: PersistenceClient): Promise<PersistencePacket | undefined> {
    this.#statements().willDelete.run(client.id)
    return super.delWill(client)
  }

  /** Releases the in-memory state only: the database belongs to the caller. */
  override async destroy(): Promise<void> {
    this.#sql = null
    await super.destroy()
  }
}

/** What aedes takes as its `persistence` option: the same callback/promise adapter as aedes' default store. */
export function createSqlitePersistence(
  db: Database,
  options: Omit<SqlitePersistenceOptions, 'db'> = {},
): CallBackPersistence<SqlitePersistenceOptions, SqlitePersistence> {
  return new CallBackPersistence((given: SqlitePersistenceOptions) => new SqlitePersistence(given), {
    ...options,
    db,
  })
}

interface Statements {
  retainedSizes: Statement<[], { topic: string; bytes: number | null }>
  retainedByTopic: Statement<[string], PacketRow>
  subscriptionOfClient: Statement<[string], number>
  queued: Statement<[string, number], number>
  retainedUpsert: Statement<[string, string, Buffer | string | null]>
  retainedDelete: Statement<[string]>
  subscriptionsAll: Statement<[], { client_id: string; topic: string; qos: number; options: string }>
  subscriptionsDeleteClient: Statement<[string]>
  addSubscriptions: (clientId: string, subs: PersistenceSubscription[]) => void
  removeSubscriptions: (clientId: string, topics: string[]) => void
  enqueue: (subs: { clientId: string }[], packet: PersistencePacket) => void
  outgoingFind: Statement<
    [{ clientId: string; brokerId: string | null; brokerCounter: number | null; messageId: number | null }],
    { seq: number; broker_id: string | null; packet: string }
  >
  outgoingSetMessageId: Statement<[number | null, string, number]>
  outgoingReplace: Statement<
    [string | null, number | null, number | null, string, Buffer | string | null, number]
  >
  outgoingClear: Statement<[string, number | null], PacketRow>
  outgoingByClient: Statement<[string], PacketRow>
  outgoingUnsent: Statement<[string, string | null, number | null], { seq: number }>
  incomingAll: Statement<[], PacketRow & { client_id: string }>
  incomingUpsert: Statement<[string, number | undefined, string, Buffer | string | null]>
  incomingDelete: Statement<[string, number | undefined]>
  incomingDeleteClient: Statement<[string]>
  willsAll: Statement<[], PacketRow & { client_id: string }>
  willUpsert: Statement<[string, string, Buffer | string | null]>
  willDelete: Statement<[string]>
}

function prepareStatements(db: Database): Statements {
  const subscriptionUpsert = db.prepare<[string, string, number, string]>(
    `INSERT INTO broker_subscriptions (client_id, topic, qos, options) VALUES (?, ?, ?, ?)
     ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, options = excluded.options`,
  )
  const subscriptionDelete = db.prepare<[string, string]>(
    'DELETE FROM broker_subscriptions WHERE client_id = ? AND topic = ?',
  )
  const outgoingInsert = db.prepare<
    [string, string | null, number | null, number | null, string, Buffer | string | null]
  >(
    `INSERT INTO broker_outgoing (client_id, broker_id, broker_counter, message_id, packet, payload)
     VALUES (?, ?, ?, ?, ?, ?)`,
  )

  return {
    // octet_length() counts the bytes of a BLOB or TEXT from the record's header: a payload is not read.
    retainedSizes: db.prepare(
      'SELECT topic, octet_length(payload) AS bytes FROM broker_retained ORDER BY rowid',
    ),
    retainedByTopic: db.prepare('SELECT packet, payload FROM broker_retained WHERE topic = ?'),
    subscriptionOfClient: db
      .prepare('SELECT 1 FROM broker_subscriptions WHERE client_id = ? LIMIT 1')
      .pluck() as Statement<[string], number>,
    // Counts up to the limit only: the index on (client_id, seq) stops there.
    queued: db
      .prepare('SELECT count(*) FROM (SELECT 1 FROM broker_outgoing WHERE client_id = ? LIMIT ?)')
      .pluck() as Statement<[string, number], number>,
    retainedUpsert: db.prepare(
      `INSERT INTO broker_retained (topic, packet, payload) VALUES (?, ?, ?)
       ON CONFLICT (topic) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
    ),
    retainedDelete: db.prepare('DELETE FROM broker_retained WHERE topic = ?'),
    subscriptionsAll: db.prepare(
      'SELECT client_id, topic, qos, options FROM broker_subscriptions ORDER BY rowid',
    ),
    subscriptionsDeleteClient: db.prepare('DELETE FROM broker_subscriptions WHERE client_id = ?'),
    addSubscriptions: db.transaction((clientId: string, subs: PersistenceSubscription[]) => {
      for (const { topic, qos, rh, rap, nl, subscriptionIdentifier } of subs) {
        subscriptionUpsert.run(clientId, topic, qos, JSON.stringify({ rh, rap, nl, subscriptionIdentifier }))
      }
    }),
    removeSubscriptions: db.transaction((clientId: string, topics: string[]) => {
      for (const topic of topics) subscriptionDelete.run(clientId, topic)
    }),
    // One JSON encoding per packet, however many subscribers it is queued for.
    enqueue: db.transaction((subs: { clientId: string }[], packet: PersistencePacket) => {
      const { packet: json, payload } = encodePacket(packet)
      for (const { clientId } of subs) {
        outgoingInsert.run(
          clientId,
          packet.brokerId ?? null,
          packet.brokerCounter ?? null,
          packet.messageId ?? null,
          json,
          payload,
        )
      }
    }),
    outgoingFind: db.prepare(
      `SELECT seq, broker_id, packet FROM broker_outgoing
       WHERE client_id = @clientId
         AND ((broker_id = @brokerId AND broker_counter IS @brokerCounter)
           OR ((broker_id IS NOT @brokerId OR @brokerId IS NULL) AND message_id IS @messageId))
       ORDER BY seq LIMIT 1`,
    ),
    outgoingSetMessageId: db.prepare('UPDATE broker_outgoing SET message_id = ?, packet = ? WHERE seq = ?'),
    outgoingReplace: db.prepare(
      `UPDATE broker_outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ?, payload = ?
       WHERE seq = ?`,
    ),
    outgoingClear: db.prepare(
      `DELETE FROM broker_outgoing WHERE seq = (
         SELECT seq FROM broker_outgoing WHERE client_id = ? AND message_id IS ? ORDER BY seq LIMIT 1
       ) RETURNING packet, payload`,
    ),
    outgoingByClient: db.prepare(
      'SELECT packet, payload FROM broker_outgoing WHERE client_id = ? ORDER BY seq',
    ),
    outgoingUnsent: db.prepare(
      `SELECT seq FROM broker_outgoing
       WHERE client_id = ? AND broker_id IS ? AND broker_counter IS ? AND message_id IS NULL LIMIT 1`,
    ),
    incomingAll: db.prepare('SELECT client_id, packet, payload FROM broker_incoming'),
    incomingUpsert: db.prepare(
      `INSERT INTO broker_incoming (client_id, message_id, packet, payload) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id, message_id) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
    ),
    incomingDelete: db.prepare('DELETE FROM broker_incoming WHERE client_id = ? AND message_id = ?'),
    incomingDeleteClient: db.prepare('DELETE FROM broker_incoming WHERE client_id = ?'),
    willsAll: db.prepare('SELECT client_id, packet, payload FROM broker_wills ORDER BY rowid'),
    willUpsert: db.prepare(
      `INSERT INTO broker_wills (client_id, packet, payload) VALUES (?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
    ),
    willDelete: db.prepare('DELETE FROM broker_wills WHERE client_id = ?'),
  }
}
