import { Buffer } from 'node:buffer'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { OperationView, SyncConfigInput, SyncConfigView, SyncState, SyncStatusView } from '../api/types'
import type { AuditStore } from '../audit/audit-store'
import type { BatchWriter } from '../store/writer'
import {
  type AlarmActionDeps,
  alarmActionError,
  applyAlarmAction,
  commentAlarm,
  commentError,
  shelveAlarm,
  shelveError,
  unshelveAlarm,
  unshelveError,
} from '../telemetry/alarm-actions'
import type { Alarm } from '../telemetry/alarm-store'
import type { Change } from '../twin/changes'
import { cloudHlc, type DesiredStore } from '../twin/desired-store'
import type { Entity, EntityStore } from '../twin/entity-store'
import {
  DEFAULT_SYNC_CONFIG,
  mergeSyncConfig,
  type SyncConfig,
  type SyncConfigStore,
  syncConfigView,
} from './config-store'
import { connectionError } from './connection-error'
import type { Outbox, OutboxRow } from './outbox'
import {
  type AlarmRequest,
  type DesiredRequest,
  DOWN_KINDS,
  type DownKind,
  decodePayloadSync,
  downFilter,
  downKind,
  encodeBatch,
  type OperationRequestMessage,
  PROTOCOL_VERSION,
  upTopic,
} from './protocol'

/** Batches awaiting the cloud broker's PUBACK at once. */
const WINDOW = 16
/** What send() adds to an item's stored body (id, seq, kind, entity, queuedAt), at most. */
const ITEM_ENVELOPE_BYTES = 120
/** Rows read from the outbox at a time while a batch is filled. */
const READ_CHUNK = 256
const BACKOFF_MIN_MS = 1000
const BACKOFF_MAX_MS = 60_000
const THROUGHPUT_WINDOW_MS = 10_000
/** Ids of applied downstream requests are remembered this long. */
const INBOX_DAYS = 30

export interface SyncDeps {
  db: import('better-sqlite3').Database
  writer: BatchWriter
  outbox: Outbox
  desired: DesiredStore
  entities: EntityStore
  audit: AuditStore
  configStore: SyncConfigStore
  alarmActions: AlarmActionDeps
  /** Requests an operation as the cloud's operator; throws an error with `statusCode` if refused. */
  requestOperation: (
    entity: string,
    operation: string,
    payload: Record<string, unknown>,
    actor: string,
  ) => string
  logger: Logger
  now: () => number
}

class Refused extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

interface Sent {
  first: number
  last: number
  bytes: number
  uncompressedBytes: number
}

/**
 * Cloud sync: captures what changes in the twin into the outbox, forwards it in compressed batches
 * to the cloud broker (QoS 1, in order, resent from the oldest unacknowledged item after any
 * outage), and applies what the cloud sends down (desired properties, operation requests, alarm
 * acknowledgements), each exactly once.
 */
export class SyncService {
  private config!: SyncConfig
  private stopped = false
  private client: MqttClient | undefined
  private connection = 0
  private state: SyncState = 'off'
  private since: number
  private lastError: string | null = null
  /** The last error as the system or broker gave it (code and message), for logs and support. */
  private lastErrorCode: string | null = null
  private nextRetryAt: number | null = null
  private attempt = 0
  private retryTimer: NodeJS.Timeout | undefined
  private batchTimer: NodeJS.Timeout | undefined
  /** The highest seq handed to the broker on this connection. */
  private cursor = 0
  private readonly inflight: Sent[] = []
  private pumping = false
  /** Desired versions the cloud had when this connection began: the base of requests without one. */
  private baseAtConnect = new Map<string, number>()
  private readonly received = { messages: 0, rejected: 0 }
  private readonly acks: Array<{ time: number; items: number; values: number; bytes: number }> = []
  /** Answers of requests applied but not committed yet, by id. */
  private readonly applying = new Map<string, Record<string, unknown>>()
  private readonly capturedDesired = new Map<string, number>()
  private readonly insertInbox
  private readonly findInbox
  private readonly pruneInbox

  constructor(private readonly deps: SyncDeps) {
    this.since = deps.now()
    this.insertInbox = deps.db.prepare('INSERT OR IGNORE INTO sync_inbox (id, time, answer) VALUES (?, ?, ?)')
    this.findInbox = deps.db.prepare('SELECT answer FROM sync_inbox WHERE id = ?').pluck()
    this.pruneInbox = deps.db.prepare('DELETE FROM sync_inbox WHERE time < ?')
  }

  /**
   * Loads the settings and, when sync is on, captures from now and connects. Called before the broker
   * takes its first message, and stopped only after its last one is stored, so every change the twin
   * commits while sync is on is captured: no window at start or stop (the outbox and the store agree).
   */
  start(): void {
    try {
      this.config = this.deps.configStore.load()
    } catch (error) {
      // A settings file that cannot be used leaves sync off and says why; the twin runs on.
      this.config = { ...DEFAULT_SYNC_CONFIG }
      this.lastError = (error as Error).message
      this.lastErrorCode = null
      this.deps.logger.error({ err: error }, 'cloud sync settings unusable: sync stays off')
    }
    this.deps.outbox.onCommitted(() => this.afterCommit())
    if (this.config.enabled) this.connect()
  }

  /** Disconnects from the cloud; call once the writer has stored the last change. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.disconnect()
  }

  configView(): SyncConfigView {
    return syncConfigView(this.config)
  }

  /** Changes the configuration (validated, saved, audited) and reconnects as it now says. */
  async configure(input: SyncConfigInput, actor: string): Promise<SyncConfigView> {
    const before = this.config
    const next = mergeSyncConfig(before, input)
    this.deps.configStore.save(next)
    this.config = next
    const redacted = (config: SyncConfig) => {
      const view = syncConfigView(config)
      return {
        ...view,
        password: view.password.set,
        clientCert: view.clientCert.hint,
        clientKey: view.clientKey.set,
        ca: view.ca.hint,
      }
    }
    this.deps.audit.append({
      actor,
      action: 'sync.configure',
      entity: null,
      target: 'sync',
      before: redacted(before),
      after: redacted(next),
    })
    const reconnect =
      before.enabled !== next.enabled ||
      (['url', 'siteId', 'username', 'password', 'clientCert', 'clientKey', 'ca'] as const).some(
        (key) => before[key] !== next[key],
      )
    if (!reconnect) {
      if (this.state === 'connected') this.pump()
      return this.configView()
    }
    await this.disconnect()
    if (next.enabled) {
      // Turned on (again), or pointed elsewhere: the cloud gets the whole current state first.
      if (!before.enabled || before.siteId !== next.siteId) this.snapshot()
      this.connect()
    }
    return this.configView()
  }

  /** Tries to reach the cloud broker now instead of at the next backoff step (the cable is back). */
  retryNow(): boolean {
    if (this.state !== 'disconnected') return false
    clearTimeout(this.retryTimer)
    this.attempt = 0
    this.connect()
    return true
  }

  /** Keeps a connection failure in words for the status, and as it came for the log. */
  private noteError(error: unknown, url: string): void {
    const { text, raw } = connectionError(error, url)
    this.lastError = text
    this.lastErrorCode = raw
  }

  status(): SyncStatusView {
    const { outbox, desired, now } = this.deps
    const c = outbox.counters
    this.forgetOldAcks(now())
    const sum = (key: 'items' | 'values' | 'bytes') =>
      (this.acks.reduce((total, a) => total + a[key], 0) * 1000) / THROUGHPUT_WINDOW_MS
    return {
      enabled: this.config.enabled,
      state: this.state,
      url: this.config.url,
      siteId: this.config.siteId,
      since: this.since,
      lastError: this.lastError,
      lastErrorCode: this.lastErrorCode,
      nextRetryAt: this.state === 'disconnected' ? this.nextRetryAt : null,
      backlog: { ...outbox.backlog, oldestTime: outbox.oldestTime },
      maxBacklogBytes: this.config.maxBacklogBytes,
      sent: {
        items: c.sentItems,
        values: c.sentValues,
        batches: c.sentBatches,
        bytes: c.sentBytes,
        uncompressedBytes: c.sentUncompressedBytes,
      },
      throughput: {
        itemsPerSecond: sum('items'),
        valuesPerSecond: sum('values'),
        bytesPerSecond: sum('bytes'),
      },
      lastSyncAt: c.lastSyncAt,
      dropped: { items: c.droppedItems, values: c.droppedValues },
      received: { ...this.received },
      conflicts: desired.conflictCounts(),
    }
  }

  /** Acknowledgements are kept for the throughput of the last window only. */
  private forgetOldAcks(time: number): void {
    while (this.acks.length > 0 && (this.acks[0]?.time ?? 0) < time - THROUGHPUT_WINDOW_MS) this.acks.shift()
  }

  // ---- capture -------------------------------------------------------------------------------

  /** Turns a change of the twin into an outbox item (the ChangeFeed's tap: same transaction). */
  readonly capture = (change: Change): void => {
    if (!this.config?.enabled) return
    const { outbox, entities, desired } = this.deps
    switch (change.kind) {
      case 'measurement':
        outbox.addMeasurement(change.entity, change.type, change.time, change.names, change.values)
        return
      case 'entity': {
        const entity = entities.get(change.entity)
        if (change.op === 'delete' || !entity) outbox.add('entity', change.entity, { op: 'delete' })
        else outbox.add('entity', change.entity, entityBody(entities, entity))
        return
      }
      case 'twin':
        // A removed fragment says so: null can be a fragment's value too.
        outbox.add(
          'twin',
          change.entity,
          entities.twin(change.entity)?.has(change.key)
            ? { key: change.key, value: change.value }
            : { key: change.key, value: null, removed: true },
        )
        return
      case 'health':
        outbox.add('health', change.entity, healthBody(entities, change.entity))
        return
      case 'event':
        outbox.add('event', change.entity, {
          type: change.type,
          time: change.time,
          text: change.text,
          payload: change.payload,
        })
        return
      case 'alarm':
        outbox.add('alarm', change.entity, alarmBody(change.alarm))
        return
      case 'operation':
        outbox.add('operation', change.entity, operationBody(change.operation))
        return
      case 'desired': {
        // The UI hears of every change (a command sent, the cloud's acknowledgement); the cloud
        // needs each version of the document once.
        const document = desired.document(change.entity)
        if (!document || this.capturedDesired.get(change.entity) === document.version) return
        this.capturedDesired.set(change.entity, document.version as number)
        outbox.add('desired', change.entity, document)
        return
      }
      case 'conflict': {
        const conflict = desired.conflict(change.id)
        if (conflict) outbox.add('conflict', change.entity, { conflict })
        return
      }
    }
  }

  /** Queues the whole current state: registry (parents first), twin, health, open alarms, desired. */
  private snapshot(): void {
    const { outbox, entities, desired, alarmActions } = this.deps
    const roots = entities.all().filter((e) => !e.parent || !entities.has(e.parent))
    const ordered = roots.flatMap((root) => entities.subtree(root.topicId))
    for (const entity of ordered) {
      outbox.add('entity', entity.topicId, { ...entityBody(entities, entity), snapshot: true })
      for (const [key, twin] of entities.twin(entity.topicId) ?? [])
        outbox.add('twin', entity.topicId, { key, value: twin.value, snapshot: true })
      if (entities.health(entity.topicId))
        outbox.add('health', entity.topicId, { ...healthBody(entities, entity.topicId), snapshot: true })
      for (const alarm of alarmActions.alarms.openOf(entity.id))
        outbox.add('alarm', entity.topicId, { ...alarmBody(alarm), snapshot: true })
    }
    for (const entity of desired.entities().filter((e) => entities.has(e))) {
      const document = desired.document(entity)
      if (document) outbox.add('desired', entity, { ...document, snapshot: true })
    }
  }

  private afterCommit(): void {
    if (this.stopped) return
    const dropped = this.deps.outbox.enforceBound(this.config.maxBacklogBytes, this.cursor)
    if (dropped.items > 0)
      this.deps.logger.warn(dropped, 'sync backlog over its bound: dropped the oldest telemetry')
    if (this.state === 'connected') this.pump()
  }

  // ---- connection ----------------------------------------------------------------------------

  private setState(state: SyncState): void {
    if (this.state === state) return
    this.state = state
    this.since = this.deps.now()
  }

  private connect(): void {
    const config = this.config
    const generation = ++this.connection
    this.nextRetryAt = null
    this.setState('connecting')
    const options: IClientOptions = {
      clientId: `edgetwin-${config.siteId}`,
      // A persistent session: the cloud broker keeps what it sends down while the edge is away.
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      keepalive: 30,
      resubscribe: false,
      username: config.username || undefined,
      password: config.password ?? undefined,
      cert: config.clientCert ?? undefined,
      key: config.clientKey ?? undefined,
      ca: config.ca ?? undefined,
    }
    let client: MqttClient
    try {
      client = mqtt.connect(config.url, options)
    } catch (error) {
      this.noteError(error, config.url)
      this.scheduleRetry()
      return
    }
    this.client = client
    client.on('connect', () => {
      if (generation !== this.connection) return
      this.attempt = 0
      this.lastError = null
      this.lastErrorCode = null
      try {
        this.pruneInbox.run(this.deps.now() - INBOX_DAYS * 86_400_000)
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'cannot prune the ids of applied cloud requests')
      }
      this.cursor = 0
      this.inflight.length = 0
      this.baseAtConnect = new Map(
        this.deps.desired.entities().map((entity) => [entity, this.deps.desired.syncedVersion(entity) ?? 0]),
      )
      this.setState('connected')
      this.deps.logger.info({ url: config.url, site: config.siteId }, 'connected to the cloud broker')
      client.subscribe(downFilter(config.siteId), { qos: 1 }, (error) => {
        if (error) this.deps.logger.warn({ err: error }, 'cannot subscribe to cloud requests')
      })
      this.pump()
    })
    // mqtt.js sends the PUBACK when this calls back: only once what the request did is stored.
    client.handleMessage = (packet, callback) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
      this.receive(packet.topic, payload, () => callback())
    }
    client.on('error', (error) => {
      if (generation !== this.connection) return
      this.noteError(error, config.url)
      this.deps.logger.debug({ err: error, reason: this.lastError }, 'cloud connection error')
    })
    client.on('close', () => {
      if (generation !== this.connection) return
      // mqtt.js passes on only socket errors; anything else closed the attempt without a word.
      if (this.state === 'connecting' && !this.lastError) {
        this.lastError =
          "The cloud broker closed the connection before accepting it: check the site id, and the broker's log for why"
        this.lastErrorCode = null
      }
      this.deps.logger.info(
        { url: config.url, error: this.lastError, code: this.lastErrorCode },
        'disconnected from the cloud broker',
      )
      client.end(true)
      this.client = undefined
      this.scheduleRetry()
    })
  }

  private scheduleRetry(): void {
    clearTimeout(this.batchTimer)
    this.inflight.length = 0
    this.setState('disconnected')
    // Exponential backoff with jitter, so a fleet does not reconnect in step after an outage.
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt)
    const delay = Math.round(base * (0.8 + Math.random() * 0.4))
    this.attempt++
    this.nextRetryAt = this.deps.now() + delay
    this.retryTimer = setTimeout(() => this.connect(), delay)
  }

  private async disconnect(): Promise<void> {
    this.connection++
    clearTimeout(this.retryTimer)
    clearTimeout(this.batchTimer)
    this.inflight.length = 0
    this.nextRetryAt = null
    const client = this.client
    const connected = this.state === 'connected'
    this.client = undefined
    this.setState('off')
    if (!client) return
    // A polite DISCONNECT when connected, but never wait long for it.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), 2000)
      client.end(!connected, {}, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  // ---- upstream ------------------------------------------------------------------------------

  /** Sends batches while the window has room; a partial batch waits until it is old enough. */
  private pump(): void {
    if (this.pumping || this.state !== 'connected') return
    this.pumping = true
    void this.fill().finally(() => {
      this.pumping = false
    })
  }

  private async fill(): Promise<void> {
    const { outbox, now } = this.deps
    const generation = this.connection
    while (this.state === 'connected' && generation === this.connection && this.inflight.length < WINDOW) {
      const batch = this.nextBatch(outbox)
      if (batch.rows.length === 0) return
      const age = now() - (batch.rows[0]?.time ?? now())
      if (!batch.full && age < this.config.batchMs) {
        clearTimeout(this.batchTimer)
        this.batchTimer = setTimeout(() => this.pump(), this.config.batchMs - age)
        return
      }
      await this.send(batch.rows, generation)
    }
  }

  /**
   * The next batch: the items after the cursor up to the batch size (at least one). Full when the
   * size is reached; otherwise it may wait for more until its oldest item is old enough.
   */
  private nextBatch(outbox: Outbox): { rows: OutboxRow[]; full: boolean } {
    const rows: OutboxRow[] = []
    let bytes = 0
    let after = this.cursor
    for (;;) {
      const chunk = outbox.read(after, READ_CHUNK)
      for (const row of chunk) {
        const size = row.bytes + ITEM_ENVELOPE_BYTES + row.entity.length
        if (rows.length > 0 && bytes + size > this.config.batchBytes) return { rows, full: true }
        rows.push(row)
        bytes += size
      }
      const last = chunk.at(-1)
      if (chunk.length < READ_CHUNK || !last) return { rows, full: bytes >= this.config.batchBytes }
      after = last.seq
    }
  }

  private async send(rows: OutboxRow[], generation: number): Promise<void> {
    const client = this.client
    const first = rows[0]
    const last = rows[rows.length - 1]
    if (!client || !first || !last) return
    const { siteId } = this.config
    const stream = this.deps.outbox.stream
    const items = rows.map((row) => {
      const head = `{"id":${JSON.stringify(`${siteId}/${stream}/${row.seq}`)},"seq":${row.seq},"kind":"${row.kind}","entity":${JSON.stringify(row.entity)},"queuedAt":${row.time}`
      return row.body === '{}' ? `${head}}` : `${head},${row.body.slice(1)}`
    })
    const json = `{"v":${PROTOCOL_VERSION},"site":${JSON.stringify(siteId)},"stream":"${stream}","items":[${items.join(',')}]}`
    const payload = await encodeBatch(json)
    if (generation !== this.connection || this.state !== 'connected') return
    const sent: Sent = {
      first: first.seq,
      last: last.seq,
      bytes: payload.length,
      uncompressedBytes: Buffer.byteLength(json),
    }
    this.cursor = last.seq
    this.inflight.push(sent)
    client.publish(upTopic(siteId), payload, { qos: 1 }, (error) => {
      if (generation !== this.connection) return
      if (error) {
        this.deps.logger.debug({ err: error }, 'batch not acknowledged')
        return
      }
      this.acknowledged(sent)
    })
  }

  private acknowledged(sent: Sent): void {
    const index = this.inflight.indexOf(sent)
    if (index >= 0) this.inflight.splice(index, 1)
    let removed: ReturnType<Outbox['acknowledged']>
    try {
      removed = this.deps.outbox.acknowledged(sent.first, sent.last, sent)
    } catch (error) {
      // The items could not be removed (a full disk): they go again on the next connection, where
      // the cloud drops them by id. Reconnecting now keeps the cursor and the outbox in step.
      this.deps.logger.warn({ err: error }, 'cannot remove acknowledged items from the outbox; reconnecting')
      this.client?.end(true)
      return
    }
    const { items, values, desired } = removed
    for (const { entity, version } of desired) this.deps.desired.synced(entity, version)
    const time = this.deps.now()
    this.forgetOldAcks(time)
    this.acks.push({ time, items, values, bytes: sent.bytes })
    this.pump()
  }

  // ---- downstream ----------------------------------------------------------------------------

  /** A request from the cloud: applied once, answered with a `response` item, acknowledged when stored. */
  private receive(topic: string, payload: Buffer, done: () => void): void {
    this.received.messages++
    const kind = downKind(this.config.siteId, topic) as DownKind | undefined
    let message: unknown
    try {
      // Synchronous: requests are small, and they must apply in the order they came.
      message = decodePayloadSync(payload)
    } catch {
      message = undefined
    }
    this.apply(kind, message)
    this.deps.writer.afterCommit(done, true)
  }

  private apply(kind: DownKind | undefined, message: unknown): void {
    const request = (typeof message === 'object' && message !== null ? message : {}) as Record<
      string,
      unknown
    >
    const id = typeof request.id === 'string' && request.id !== '' ? request.id : undefined
    const entity = typeof request.entity === 'string' ? request.entity : ''
    const outcome = this.outcome(kind, message === undefined ? undefined : request, id, entity)
    if (outcome.status === 'rejected') {
      this.received.rejected++
      this.deps.logger.warn({ kind, id, reason: outcome.reason }, 'cloud request refused')
    }
    this.deps.outbox.add('response', entity, { request: id ?? null, requestKind: kind ?? null, ...outcome })
  }

  /** Applies a request unless it is invalid or a copy; the answer's fields (status, code, …). */
  private outcome(
    kind: DownKind | undefined,
    request: Record<string, unknown> | undefined,
    id: string | undefined,
    entity: string,
  ): Record<string, unknown> {
    const refused = (code: number, reason: string) => ({ status: 'rejected', code, reason })
    if (!kind || !DOWN_KINDS.includes(kind)) return refused(400, 'unknown request kind')
    if (!request) return refused(400, 'not JSON (or gzip of JSON)')
    if (!id) return refused(400, 'the request has no "id"')
    const earlier = this.applying.get(id) ?? (this.findInbox.get(id) as string | undefined)
    // A copy (the cloud broker redelivered it, or the cloud sent it again): the first answer, again.
    if (earlier)
      return { ...(typeof earlier === 'string' ? JSON.parse(earlier) : earlier), status: 'duplicate' }
    if (!this.deps.entities.has(entity)) return refused(404, `entity "${entity}" not found`)
    const origin = typeof request.origin === 'string' && request.origin ? request.origin : 'cloud'
    const actor = origin === 'cloud' || origin.startsWith('cloud:') ? origin : `cloud:${origin}`
    try {
      const answer = { status: 'accepted', code: 200, ...this.handlers[kind](request, entity, actor) }
      this.applying.set(id, answer)
      const time = this.deps.now()
      const json = JSON.stringify(answer)
      this.deps.writer.write(() => this.insertInbox.run(id, time, json))
      this.deps.writer.afterCommit(() => this.applying.delete(id))
      return answer
    } catch (error) {
      const code = (error as { statusCode?: number }).statusCode ?? 500
      return refused(code, (error as Error).message)
    }
  }

  private readonly handlers: Record<
    DownKind,
    (request: Record<string, unknown>, entity: string, actor: string) => Record<string, unknown>
  > = {
    desired: (request, entity, actor) => {
      const r = request as unknown as DesiredRequest
      if (typeof r.properties !== 'object' || r.properties === null)
        throw new Refused(400, '"properties" must be an object')
      const base = typeof r.baseVersion === 'number' ? r.baseVersion : (this.baseAtConnect.get(entity) ?? 0)
      const outcome = this.deps.desired.applyCloud(entity, {
        properties: r.properties,
        base,
        hlc: cloudHlc(r.hlc, r.time, this.deps.now(), actor),
        origin: actor,
      })
      return {
        version: outcome.version,
        applied: outcome.applied,
        conflicts: outcome.conflicts.map((c) => ({ id: c.id, property: c.property, winner: c.winner })),
      }
    },
    operation: (request, entity, actor) => {
      const r = request as unknown as OperationRequestMessage
      if (typeof r.operation !== 'string') throw new Refused(400, '"operation" must be a string')
      const payload = typeof r.payload === 'object' && r.payload !== null ? r.payload : {}
      return { cmdId: this.deps.requestOperation(entity, r.operation, payload, actor) }
    },
    alarm: (request, entity, actor) => {
      const r = request as unknown as AlarmRequest
      if (!ALARM_ACTIONS.includes(r.action))
        throw new Refused(400, `"action" must be one of ${ALARM_ACTIONS.join(', ')}`)
      if (typeof r.type !== 'string' || r.type === '')
        throw new Refused(400, '"type" must name the alarm type')
      const deps = this.deps.alarmActions
      const record = this.deps.entities.get(entity)
      const alarm = record && deps.alarms.openAlarm(record.id, r.type)
      if (!alarm) throw new Refused(404, `no open alarm "${r.type}" on ${entity}`)
      const refuse = (error: [number, string] | string | undefined) => {
        if (typeof error === 'string') throw new Refused(409, error)
        if (error) throw new Refused(error[0], error[1])
      }
      let updated: Alarm
      if (r.action === 'shelve') {
        const shelf = { minutes: Number(r.minutes), reason: typeof r.reason === 'string' ? r.reason : '' }
        refuse(shelveError(alarm, shelf.minutes, shelf.reason))
        updated = shelveAlarm(deps, alarm, shelf, actor)
      } else if (r.action === 'unshelve') {
        refuse(unshelveError(alarm))
        updated = unshelveAlarm(deps, alarm, actor)
      } else if (r.action === 'comment') {
        const text = typeof r.text === 'string' ? r.text : ''
        refuse(commentError(alarm, text))
        updated = commentAlarm(deps, alarm, text, actor)
      } else {
        refuse(alarmActionError(alarm, r.action))
        updated = applyAlarmAction(deps, alarm, r.action, actor)
      }
      return { alarm: updated.id, alarmStatus: updated.status }
    },
  }
}

function entityBody(entities: EntityStore, entity: Entity): Record<string, unknown> {
  return {
    op: 'upsert',
    type: entity.type,
    parent: entity.parent ?? null,
    registration: entity.registration,
    capabilities: [...(entities.capabilities(entity.topicId)?.keys() ?? [])],
  }
}

function healthBody(entities: EntityStore, entity: string): Record<string, unknown> {
  const health = entities.health(entity)
  return { status: health?.status ?? 'unknown', payload: health?.payload ?? null }
}

/** What the cloud may do to an alarm: the same actions as an operator on the edge. */
const ALARM_ACTIONS: readonly AlarmRequest['action'][] = [
  'acknowledge',
  'clear',
  'shelve',
  'unshelve',
  'comment',
]

function alarmBody(alarm: Alarm): Record<string, unknown> {
  const { entityId: _, id, ...rest } = alarm
  return { alarmId: id, ...rest }
}

function operationBody(view: OperationView): Record<string, unknown> {
  const { id, entity: _, cancellable: __, ...rest } = view
  return { operationId: id, ...rest }
}
