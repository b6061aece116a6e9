import { randomBytes } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import type { BatchWriter } from '../store/writer'
import type { UpKind } from './protocol'

/** What the bound drops first: measurements, then events; state, alarms and operations never. */
const DROP_MEASUREMENTS = 2
const DROP_EVENTS = 1
const KEEP = 0
/** A measurement item is closed at this many values, so batches can be cut near their size. */
const MAX_VALUES_PER_ITEM = 2000

export interface OutboxRow {
  seq: number
  kind: UpKind
  entity: string
  vals: number
  bytes: number
  time: number
  body: string
}

export interface Counters {
  sentItems: number
  sentValues: number
  sentBatches: number
  sentBytes: number
  sentUncompressedBytes: number
  droppedItems: number
  droppedValues: number
  lastSyncAt: number | null
}

const ZERO: Counters = {
  sentItems: 0,
  sentValues: 0,
  sentBatches: 0,
  sentBytes: 0,
  sentUncompressedBytes: 0,
  droppedItems: 0,
  droppedValues: 0,
  lastSyncAt: null,
}

/** Samples of one measurement type and set of names, as rows of [time, ...values]. */
interface SampleGroup {
  type: string
  names: readonly string[]
  rows: number[][]
}

interface Pending {
  kind: UpKind
  entity: string
  droppable: number
  time: number
  vals: number
  /** The body, serialized once (the write hook may run again after a rollback), and its UTF-8 size. */
  json?: string
  bytes?: number
  body?: Record<string, unknown>
  groups?: Map<string, SampleGroup>
}

/**
 * The durable store-and-forward queue to the cloud. Items are buffered while a batch of the local
 * store is being built and written in that same transaction, so an item exists exactly when the
 * state it reports does (a crash loses neither alone). They leave only once the cloud broker has
 * acknowledged them.
 */
export class Outbox {
  /** What waits, kept in step with the table. */
  readonly backlog = { items: 0, values: 0, bytes: 0 }
  counters: Counters = { ...ZERO }
  /** Names this outbox; seqs are unique within it. */
  stream = ''
  private pending: Pending[] = []
  private readonly openMeasurements = new Map<string, Pending>()
  private statements!: Record<
    'insert' | 'read' | 'ack' | 'oldest' | 'droppable' | 'drop' | 'saveState',
    Statement
  >
  private readonly committedListeners: Array<() => void> = []

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
    private readonly now: () => number,
  ) {}

  start(): void {
    const db = this.db
    this.statements = {
      insert: db.prepare(
        'INSERT INTO outbox (kind, entity, droppable, vals, bytes, time, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      read: db.prepare(
        'SELECT seq, kind, entity, vals, bytes, time, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      ack: db.prepare(
        `DELETE FROM outbox WHERE seq >= ? AND seq <= ?
         RETURNING kind, entity, vals, bytes, CASE WHEN kind = 'desired' THEN body END AS body`,
      ),
      oldest: db.prepare('SELECT time FROM outbox ORDER BY seq LIMIT 1'),
      droppable: db.prepare(
        'SELECT seq, vals, bytes FROM outbox WHERE droppable = ? AND seq > ? ORDER BY seq LIMIT 1000',
      ),
      drop: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      saveState: db.prepare(
        'INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    }
    const totals = db
      .prepare('SELECT COUNT(*) AS items, TOTAL(vals) AS vals, TOTAL(bytes) AS bytes FROM outbox')
      .get() as { items: number; vals: number; bytes: number }
    Object.assign(this.backlog, { items: totals.items, values: totals.vals, bytes: totals.bytes })
    const state = new Map(
      (db.prepare('SELECT key, value FROM sync_state').all() as Array<{ key: string; value: string }>).map(
        (r) => [r.key, r.value],
      ),
    )
    this.stream = state.get('stream') ?? randomBytes(6).toString('hex')
    if (!state.has('stream')) this.statements.saveState.run('stream', this.stream)
    const saved = state.get('counters')
    if (saved) this.counters = { ...ZERO, ...JSON.parse(saved) }
    this.writer.beforeEachCommit({ write: () => this.write(), committed: () => this.committed() })
  }

  /** Called after each commit that added items (the sender wakes up). */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener)
  }

  get oldestTime(): number | null {
    if (this.backlog.items === 0) return null
    return (this.statements.oldest.get() as { time: number } | undefined)?.time ?? null
  }

  /** Queues one item, in order after everything queued before. */
  add(kind: UpKind, entity: string, body: Record<string, unknown>): void {
    // Whatever comes next for this entity must follow this item: close its open measurements.
    this.openMeasurements.delete(entity)
    this.pending.push({
      kind,
      entity,
      droppable: kind === 'event' ? DROP_EVENTS : KEEP,
      time: this.now(),
      vals: 0,
      body,
    })
    this.writer.touched()
  }

  /** Queues a measurement message, joined with the entity's other samples of this commit. */
  addMeasurement(
    entity: string,
    type: string,
    time: number,
    names: readonly string[],
    values: readonly number[],
  ): void {
    let item = this.openMeasurements.get(entity)
    if (!item || item.vals >= MAX_VALUES_PER_ITEM) {
      item = {
        kind: 'measurements',
        entity,
        droppable: DROP_MEASUREMENTS,
        time: this.now(),
        vals: 0,
        groups: new Map(),
      }
      this.pending.push(item)
      this.openMeasurements.set(entity, item)
    }
    const key = `${type}\u0000${names.join('\u0000')}`
    let group = item.groups?.get(key)
    if (!group) {
      group = { type, names, rows: [] }
      item.groups?.set(key, group)
    }
    group.rows.push([time, ...values])
    item.vals += values.length
  }

  private write(): void {
    for (const item of this.pending) {
      item.json ??= JSON.stringify(
        item.groups ? { samples: [...item.groups.values()] } : (item.body as Record<string, unknown>),
      )
      item.bytes ??= Buffer.byteLength(item.json)
      this.statements.insert.run(
        item.kind,
        item.entity,
        item.droppable,
        item.vals,
        item.bytes,
        item.time,
        item.json,
      )
    }
  }

  private committed(): void {
    if (this.pending.length === 0) return
    for (const item of this.pending) {
      this.backlog.items++
      this.backlog.values += item.vals
      this.backlog.bytes += item.bytes ?? 0
    }
    this.pending = []
    this.openMeasurements.clear()
    for (const listener of this.committedListeners) listener()
  }

  /** Stored items after `seq`, oldest first. */
  read(afterSeq: number, limit: number): OutboxRow[] {
    return this.statements.read.all(afterSeq, limit) as OutboxRow[]
  }

  /**
   * The cloud broker acknowledged the batch of items `first`..`last`: they leave the outbox.
   * Returns how many items and values left, and the desired versions it carried (the cloud has them).
   */
  acknowledged(
    first: number,
    last: number,
    batch: { bytes: number; uncompressedBytes: number },
  ): { items: number; values: number; desired: Array<{ entity: string; version: number }> } {
    const result = { items: 0, values: 0, desired: [] as Array<{ entity: string; version: number }> }
    this.atomically(() => {
      const rows = this.statements.ack.all(first, last) as Array<{
        kind: string
        entity: string
        vals: number
        bytes: number
        body: string | null
      }>
      const c = this.counters
      for (const row of rows) {
        this.backlog.items--
        this.backlog.values -= row.vals
        this.backlog.bytes -= row.bytes
        result.items++
        result.values += row.vals
        if (row.body) result.desired.push({ entity: row.entity, version: JSON.parse(row.body).version })
      }
      c.sentItems += result.items
      c.sentValues += result.values
      c.sentBatches++
      c.sentBytes += batch.bytes
      c.sentUncompressedBytes += batch.uncompressedBytes
      c.lastSyncAt = this.now()
      this.saveCounters()
    })
    return result
  }

  /**
   * Keeps the outbox under `maxBytes`: drops the oldest measurements, then the oldest events, not
   * touching items up to `inFlightSeq` (already on their way). Returns what was dropped.
   */
  enforceBound(maxBytes: number, inFlightSeq: number): { items: number; values: number } {
    const dropped = { items: 0, values: 0 }
    if (this.backlog.bytes <= maxBytes) return dropped
    const target = maxBytes * 0.9
    this.atomically(() => {
      for (const level of [DROP_MEASUREMENTS, DROP_EVENTS]) {
        let after = inFlightSeq
        while (this.backlog.bytes > target) {
          const rows = this.statements.droppable.all(level, after) as Array<{
            seq: number
            vals: number
            bytes: number
          }>
          if (rows.length === 0) break
          for (const row of rows) {
            if (this.backlog.bytes <= target) break
            this.statements.drop.run(row.seq)
            this.backlog.items--
            this.backlog.values -= row.vals
            this.backlog.bytes -= row.bytes
            dropped.items++
            dropped.values += row.vals
            after = row.seq
          }
        }
      }
      if (dropped.items > 0) {
        this.counters.droppedItems += dropped.items
        this.counters.droppedValues += dropped.values
        this.saveCounters()
      }
    })
    return dropped
  }

  /** Runs a transaction whose counting in memory is undone when it rolls back (a full disk). */
  private atomically(work: () => void): void {
    const backlog = { ...this.backlog }
    const counters = { ...this.counters }
    try {
      this.db.transaction(work)()
    } catch (error) {
      Object.assign(this.backlog, backlog)
      this.counters = counters
      throw error
    }
  }

  private saveCounters(): void {
    this.statements.saveState.run('counters', JSON.stringify(this.counters))
  }
}
