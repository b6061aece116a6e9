import type { Database, Statement } from 'better-sqlite3'
import { olderThan, pageRows } from '../store/pages'
import { nextId, Where } from '../store/sql'
import type { BatchWriter } from '../store/writer'

export interface StoredEvent {
  id: number
  entityId: number
  type: string
  time: number
  text: string
  payload: unknown
}

export interface EventQuery {
  entityIds?: number[]
  type?: string
  from?: number
  to?: number
  /** Only events after this position of the list: `[time, id]` of the last one read. */
  after?: number[]
  limit: number
}

export class EventStore {
  private nextId = 1
  private insert!: Statement

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    this.insert = this.db.prepare(
      'INSERT INTO events (id, entity_id, type, time, text, payload) VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.nextId = nextId(this.db, 'events')
  }

  add(entityId: number, type: string, time: number, text: string, payload: unknown): StoredEvent {
    const event = { id: this.nextId++, entityId, type, time, text, payload }
    const json = JSON.stringify(payload)
    this.writer.write(() => this.insert.run(event.id, entityId, type, time, text, json))
    return event
  }

  /** Newest first, read lazily row by row (see pageRows). */
  *query(q: EventQuery): Generator<StoredEvent> {
    const where = new Where()
      .in('entity_id', q.entityIds)
      .add('type = ?', q.type)
      .add('time >= ?', q.from)
      .add('time < ?', q.to)
    const rows = pageRows<StoredEvent & { payload: string }>(this.db, {
      table: 'events',
      columns: 'id, entity_id AS entityId, type, time, text, payload',
      where: olderThan(where, 'time', q.after),
      order: 'time DESC, id DESC',
      limit: q.limit,
    })
    for (const row of rows) yield { ...row, payload: JSON.parse(row.payload) }
  }

  removeEntities(entityIds: number[]): void {
    const list = entityIds.join(',')
    this.writer.write(() => this.db.prepare(`DELETE FROM events WHERE entity_id IN (${list})`).run())
  }

  applyRetention(days: number, now: number): number {
    return this.db.prepare('DELETE FROM events WHERE time < ?').run(now - days * 86_400_000).changes
  }
}
