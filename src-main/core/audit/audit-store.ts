import type { Database, Statement } from 'better-sqlite3'
import { pageRows } from '../store/pages'
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
  /** Only these actions (with `action`, both must match). */
  actions?: readonly string[]
  /** What the action was on: `alarm/12/pressure_low`, … */
  target?: string
  from?: number
  to?: number
  /** Only entries with a smaller id (newest first) or, `oldestFirst`, a larger one. */
  after?: number
  oldestFirst?: boolean
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

  private filters(q: Omit<AuditQuery, 'limit'>): Where {
    return new Where()
      .add('entity = ?', q.entity)
      .add('action = ?', q.action)
      .oneOf('action', q.actions)
      .add('target = ?', q.target)
      .add('time >= ?', q.from)
      .add('time < ?', q.to)
  }

  /** The id just before the newest `count` entries matching `q` (0 when there are fewer). */
  idBeforeNewest(q: Omit<AuditQuery, 'limit'>, count: number): number {
    const where = this.filters(q)
    const id = this.db
      .prepare(`SELECT id FROM audit ${where} ORDER BY id DESC LIMIT 1 OFFSET ?`)
      .pluck()
      .get(...where.args, count) as number | undefined
    return id ?? 0
  }

  /** Newest first (unless `oldestFirst`), read lazily row by row (see pageRows). */
  *query(q: AuditQuery): Generator<AuditEntry> {
    const where = this.filters(q).add(q.oldestFirst ? 'id > ?' : 'id < ?', q.after)
    const rows = pageRows<
      Omit<AuditEntry, 'before' | 'after'> & { before: string | null; after: string | null }
    >(this.db, {
      table: 'audit',
      columns: '*',
      where,
      order: q.oldestFirst ? 'id' : 'id DESC',
      limit: q.limit,
    })
    for (const r of rows) {
      yield {
        ...r,
        before: r.before === null ? null : JSON.parse(r.before),
        after: r.after === null ? null : JSON.parse(r.after),
      }
    }
  }
}
