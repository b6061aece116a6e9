import type { Database, Statement } from 'better-sqlite3'
import { olderThan, pageRows } from '../store/pages'
import { nextId, Where } from '../store/sql'
import type { BatchWriter } from '../store/writer'
import type { Severity } from './payload'

export type AlarmStatus = 'active' | 'acknowledged' | 'cleared'

export interface Alarm {
  id: number
  entityId: number
  type: string
  severity: Severity
  text: string
  status: AlarmStatus
  /** Occurrences while open: a re-raise of an open alarm counts instead of adding a row. */
  count: number
  firstTime: number
  lastTime: number
  payload: unknown
  acknowledgedAt: number | null
  acknowledgedBy: string | null
  clearedAt: number | null
  clearedBy: string | null
}

export interface AlarmQuery {
  entityIds?: number[]
  status?: AlarmStatus[]
  severity?: Severity[]
  /** Only alarms after this position of the list: `[lastTime, id]` of the last one read. */
  after?: number[]
  limit: number
}

const columns = `id, entity_id AS entityId, type, severity, text, status, count, first_time AS firstTime,
  last_time AS lastTime, payload, acknowledged_at AS acknowledgedAt, acknowledged_by AS acknowledgedBy,
  cleared_at AS clearedAt, cleared_by AS clearedBy`

function fromRow(row: Alarm & { payload: string }): Alarm {
  return { ...row, payload: JSON.parse(row.payload) }
}

/** The order of alarm lists: the latest occurrence first, then the newer alarm. */
const newer = (a: Alarm, b: Alarm) => b.lastTime - a.lastTime || b.id - a.id

/**
 * Alarms as state (reference §2.4): one open alarm per entity and type, raised by a retained
 * message, counted on re-raise, cleared by an empty retained message or by an operator.
 */
export class AlarmStore {
  private readonly open = new Map<string, Alarm>()
  /** Keys of `open` by entity id, so an entity's alarms are found without scanning them all. */
  private readonly openKeys = new Map<number, Set<string>>()
  private nextId = 1
  private upsert!: Statement

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    this.upsert =
      this.db.prepare(`INSERT INTO alarms (id, entity_id, type, severity, text, status, count, first_time,
        last_time, payload, acknowledged_at, acknowledged_by, cleared_at, cleared_by)
      VALUES (@id, @entityId, @type, @severity, @text, @status, @count, @firstTime, @lastTime, @payload,
        @acknowledgedAt, @acknowledgedBy, @clearedAt, @clearedBy)
      ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, text = excluded.text, status = excluded.status,
        count = excluded.count, last_time = excluded.last_time, payload = excluded.payload,
        acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by,
        cleared_at = excluded.cleared_at, cleared_by = excluded.cleared_by`)
    const rows = this.db.prepare(`SELECT ${columns} FROM alarms WHERE status != 'cleared'`).all() as Array<
      Alarm & { payload: string }
    >
    for (const row of rows) this.setOpen(fromRow(row))
    this.nextId = nextId(this.db, 'alarms')
  }

  private setOpen(alarm: Alarm): void {
    const key = `${alarm.entityId}/${alarm.type}`
    this.open.set(key, alarm)
    let keys = this.openKeys.get(alarm.entityId)
    if (!keys) {
      keys = new Set()
      this.openKeys.set(alarm.entityId, keys)
    }
    keys.add(key)
  }

  private deleteOpen(alarm: Alarm): void {
    const key = `${alarm.entityId}/${alarm.type}`
    this.open.delete(key)
    const keys = this.openKeys.get(alarm.entityId)
    keys?.delete(key)
    if (keys?.size === 0) this.openKeys.delete(alarm.entityId)
  }

  private save(alarm: Alarm): void {
    const row = { ...alarm, payload: JSON.stringify(alarm.payload) }
    this.writer.write(() => this.upsert.run(row))
  }

  openAlarm(entityId: number, type: string): Alarm | undefined {
    return this.open.get(`${entityId}/${type}`)
  }

  /**
   * Raises an alarm or counts another occurrence of the open one. A `replay` (a retained message
   * delivered again on subscribe) with an unchanged payload is the same occurrence, not a new one.
   */
  raise(
    entityId: number,
    alarm: { type: string; severity: Severity; text: string; time: number; payload: unknown },
    replay: boolean,
  ): Alarm | undefined {
    const key = `${entityId}/${alarm.type}`
    const current = this.open.get(key)
    if (current) {
      if (replay && JSON.stringify(current.payload) === JSON.stringify(alarm.payload)) return undefined
      const next: Alarm = {
        ...current,
        severity: alarm.severity,
        text: alarm.text,
        payload: alarm.payload,
        count: current.count + 1,
        lastTime: alarm.time,
      }
      this.setOpen(next)
      this.save(next)
      return next
    }
    const created: Alarm = {
      id: this.nextId++,
      entityId,
      type: alarm.type,
      severity: alarm.severity,
      text: alarm.text,
      status: 'active',
      count: 1,
      firstTime: alarm.time,
      lastTime: alarm.time,
      payload: alarm.payload,
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      clearedBy: null,
    }
    this.setOpen(created)
    this.save(created)
    return created
  }

  clear(entityId: number, type: string, time: number, by: string): Alarm | undefined {
    const key = `${entityId}/${type}`
    const current = this.open.get(key)
    if (!current) return undefined
    const cleared: Alarm = { ...current, status: 'cleared', clearedAt: time, clearedBy: by }
    this.deleteOpen(current)
    this.save(cleared)
    return cleared
  }

  acknowledge(alarm: Alarm, time: number, by: string): Alarm {
    const acknowledged: Alarm = { ...alarm, status: 'acknowledged', acknowledgedAt: time, acknowledgedBy: by }
    this.setOpen(acknowledged)
    this.save(acknowledged)
    return acknowledged
  }

  /** An alarm by id: open ones from memory (they may not be flushed yet), others from the database. */
  byId(id: number): Alarm | undefined {
    for (const alarm of this.open.values()) if (alarm.id === id) return alarm
    const row = this.db.prepare(`SELECT ${columns} FROM alarms WHERE id = ?`).get(id) as
      | (Alarm & { payload: string })
      | undefined
    return row && fromRow(row)
  }

  openOf(entityId: number): Alarm[] {
    return [...(this.openKeys.get(entityId) ?? [])].flatMap((key) => this.open.get(key) ?? [])
  }

  allOpen(): Alarm[] {
    return [...this.open.values()]
  }

  /**
   * Latest occurrence first. Open alarms come from memory, so the answer includes what is not
   * flushed yet; cleared ones are read lazily row by row (see pageRows) and merged in order.
   */
  *query(q: AlarmQuery): Generator<Alarm> {
    const entityIds = q.entityIds && new Set(q.entityIds)
    const after = q.after && ({ lastTime: q.after[0], id: q.after[1] } as Alarm)
    const open = this.allOpen()
      .filter(
        (a) =>
          (!entityIds || entityIds.has(a.entityId)) &&
          (!q.status || q.status.includes(a.status)) &&
          (!q.severity || q.severity.includes(a.severity)) &&
          (!after || newer(a, after) > 0),
      )
      .sort(newer)
      .slice(0, q.limit)
    if (q.status && !q.status.includes('cleared')) return yield* open
    const where = new Where()
      .add('status = ?', 'cleared')
      .in('entity_id', q.entityIds)
      .add('(SELECT 1 FROM json_each(?) WHERE value = severity)', q.severity && JSON.stringify(q.severity))
    const rows = pageRows<Alarm & { payload: string }>(this.db, {
      table: 'alarms',
      columns,
      where: olderThan(where, 'last_time', q.after),
      order: 'last_time DESC, id DESC',
      limit: q.limit,
    })
    const openIds = new Set([...this.open.values()].map((a) => a.id))
    let i = 0
    for (const row of rows) {
      // A cleared row of an alarm open again in memory, not flushed yet: memory has its state.
      if (openIds.has(row.id)) continue
      const cleared = fromRow(row)
      while (i < open.length && newer(open[i] as Alarm, cleared) < 0) yield open[i++] as Alarm
      yield cleared
    }
    yield* open.slice(i)
  }

  removeEntities(entityIds: number[]): void {
    const gone = new Set(entityIds)
    for (const [key, alarm] of this.open) if (gone.has(alarm.entityId)) this.open.delete(key)
    const list = entityIds.join(',')
    this.writer.write(() => this.db.prepare(`DELETE FROM alarms WHERE entity_id IN (${list})`).run())
  }

  applyRetention(days: number, now: number): number {
    return this.db
      .prepare("DELETE FROM alarms WHERE status = 'cleared' AND cleared_at < ?")
      .run(now - days * 86_400_000).changes
  }
}
