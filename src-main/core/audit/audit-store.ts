import type { Database, Statement } from 'better-sqlite3'
import { nextId, Where } from '../store/sql'
import type { BatchWriter } from '../store/writer'

export interface AuditEntry {
  id: number
  time: number
  /** Who: the API token's holder or a session user. */
  actor: string
  /** What, as a dotted verb: `alarm.acknowledge`, `alarm.clear`, `entity.update`, … */
  action: string
  entity: string | null
  target: string | null
  before: unknown
  after: unknown
}

export interface AuditQuery {
  entity?: string
  action?: string
  from?: number
  to?: number
  limit: number
}

/** The append-only record of operator actions. */
export class AuditStore {
  private nextId = 1
  private insert!: Statement

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    this.insert = this.db.prepare(
      'INSERT INTO audit (id, time, actor, action, entity, target, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.nextId = nextId(this.db, 'audit')
  }

  append(entry: Omit<AuditEntry, 'id' | 'time'>, time = Date.now()): AuditEntry {
    const stored = { id: this.nextId++, time, ...entry }
    const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value))
    this.writer.write(() =>
      this.insert.run(
        stored.id,
        time,
        entry.actor,
        entry.action,
        entry.entity,
        entry.target,
        json(entry.before),
        json(entry.after),
      ),
    )
    return stored
  }

  /** Newest first. */
  query(q: AuditQuery): AuditEntry[] {
    const where = new Where()
      .add('entity = ?', q.entity)
      .add('action = ?', q.action)
      .add('time >= ?', q.from)
      .add('time < ?', q.to)
    const rows = this.db
      .prepare(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ?`)
      .all(...where.args, q.limit) as Array<
      Omit<AuditEntry, 'before' | 'after'> & { before: string | null; after: string | null }
    >
    return rows.map((r) => ({
      ...r,
      before: r.before === null ? null : JSON.parse(r.before),
      after: r.after === null ? null : JSON.parse(r.after),
    }))
  }
}
