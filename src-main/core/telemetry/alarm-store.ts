import type { Database, Statement } from 'better-sqlite3'
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
  limit: number
}

const columns = `id, entity_id AS entityId, type, severity, text, status, count, first_time AS firstTime,
  last_time AS lastTime, payload, acknowledged_at AS acknowledgedAt, acknowledged_by AS acknowledgedBy,
  cleared_at AS clearedAt, cleared_by AS clearedBy`

function fromRow(row: Alarm & { payload: string }): Alarm {
  return { ...row, payload: JSON.parse(row.payload) }
}

/**
 * Alarms as state (reference §2.4): one open alarm per entity and type, raised by a retained
 * message, counted on re-raise, cleared by an empty retained message or by an operator.
 */
export class AlarmStore {
  private readonly open = new Map<string, Alarm>()
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
    for (const row of rows) this.open.set(`${row.entityId}/${row.type}`, fromRow(row))
    this.nextId = nextId(this.db, 'alarms')
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
      this.open.set(key, next)
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
    this.open.set(key, created)
    this.save(created)
    return created
  }

  clear(entityId: number, type: string, time: number, by: string): Alarm | undefined {
    const key = `${entityId}/${type}`
    const current = this.open.get(key)
    if (!current) return undefined
    const cleared: Alarm = { ...current, status: 'cleared', clearedAt: time, clearedBy: by }
    this.open.delete(key)
    this.save(cleared)
    return cleared
  }

  acknowledge(alarm: Alarm, time: number, by: string): Alarm {
    const acknowledged: Alarm = { ...alarm, status: 'acknowledged', acknowledgedAt: time, acknowledgedBy: by }
    this.open.set(`${alarm.entityId}/${alarm.type}`, acknowledged)
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
    return [...this.open.values()].filter((a) => a.entityId === entityId)
  }

  allOpen(): Alarm[] {
    return [...this.open.values()]
  }

  /** Newest first; open alarms come from memory so the answer includes what is not flushed yet. */
  query(q: AlarmQuery): Alarm[] {
    const wanted = (a: Alarm) =>
      (!q.entityIds || q.entityIds.includes(a.entityId)) &&
      (!q.status || q.status.includes(a.status)) &&
      (!q.severity || q.severity.includes(a.severity))
    const open = this.allOpen().filter(wanted)
    let cleared: Alarm[] = []
    if (!q.status || q.status.includes('cleared')) {
      const where = new Where()
        .add('status = ?', 'cleared')
        .in('entity_id', q.entityIds)
        .add('(SELECT 1 FROM json_each(?) WHERE value = severity)', q.severity && JSON.stringify(q.severity))
      cleared = (
        this.db
          .prepare(`SELECT ${columns} FROM alarms ${where} ORDER BY last_time DESC LIMIT ?`)
          .all(...where.args, q.limit) as Array<Alarm & { payload: string }>
      ).map(fromRow)
      const openIds = new Set(open.map((a) => a.id))
      cleared = cleared.filter((a) => !openIds.has(a.id))
    }
    return [...open, ...cleared].sort((a, b) => b.lastTime - a.lastTime).slice(0, q.limit)
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
