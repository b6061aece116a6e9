import type { Database, Statement } from 'better-sqlite3'
import { olderThan, pageRows } from '../store/pages'
import { nextId, Where } from '../store/sql'
import type { BatchWriter } from '../store/writer'
import { FirstOutTracker } from './alarm-first-out'
import type { Severity } from './payload'

export type AlarmStatus = 'active' | 'acknowledged' | 'cleared'

export interface AlarmComment {
  time: number
  author: string
  text: string
}

/** Raise times kept per alarm: enough to see a chattering alarm, small enough for every row. */
export const OCCURRENCE_HISTORY = 20

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
  /** Shelved (suppressed from banner, horn and unacknowledged counts) until this time, epoch ms. */
  shelvedUntil: number | null
  shelvedBy: string | null
  shelveReason: string | null
  comments: AlarmComment[]
  /** The first alarm of a burst on its line (see alarm-first-out). */
  firstOut: boolean
  /** Times it was raised, the latest OCCURRENCE_HISTORY, oldest first. */
  occurrences: number[]
}

export interface AlarmStoreOptions {
  /** The group a burst is counted in: the entity's top-level device. */
  groupOf: (entityId: number) => number
  now: () => number
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
  cleared_at AS clearedAt, cleared_by AS clearedBy, shelved_until AS shelvedUntil, shelved_by AS shelvedBy,
  shelve_reason AS shelveReason, comments, first_out AS firstOut, occurrences`

type AlarmRow = Omit<Alarm, 'payload' | 'comments' | 'occurrences' | 'firstOut'> & {
  payload: string
  comments: string
  occurrences: string
  firstOut: number
}

function fromRow(row: AlarmRow): Alarm {
  return {
    ...row,
    payload: JSON.parse(row.payload),
    comments: JSON.parse(row.comments),
    occurrences: JSON.parse(row.occurrences),
    firstOut: row.firstOut === 1,
  }
}

export interface Shelf {
  until: number
  by: string
  reason: string
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
  /**
   * Shelves by `entity/type`, kept after the alarm clears: a chattering alarm that clears and is
   * raised again while its shelf runs is raised shelved, as shelving suppresses the alarm point.
   */
  private readonly shelves = new Map<string, Shelf>()
  private readonly firstOut = new FirstOutTracker()
  /** Closed alarms changed but not written yet (a comment right after a clear), so reads see them. */
  private readonly unwritten = new Map<number, Alarm>()
  private nextId = 1
  private upsert!: Statement

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
    private readonly options: AlarmStoreOptions = { groupOf: (id) => id, now: Date.now },
  ) {}

  start(): void {
    this.upsert =
      this.db.prepare(`INSERT INTO alarms (id, entity_id, type, severity, text, status, count, first_time,
        last_time, payload, acknowledged_at, acknowledged_by, cleared_at, cleared_by, shelved_until, shelved_by,
        shelve_reason, comments, first_out, occurrences)
      VALUES (@id, @entityId, @type, @severity, @text, @status, @count, @firstTime, @lastTime, @payload,
        @acknowledgedAt, @acknowledgedBy, @clearedAt, @clearedBy, @shelvedUntil, @shelvedBy, @shelveReason,
        @comments, @firstOut, @occurrences)
      ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, text = excluded.text, status = excluded.status,
        count = excluded.count, last_time = excluded.last_time, payload = excluded.payload,
        acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by,
        cleared_at = excluded.cleared_at, cleared_by = excluded.cleared_by, shelved_until = excluded.shelved_until,
        shelved_by = excluded.shelved_by, shelve_reason = excluded.shelve_reason, comments = excluded.comments,
        first_out = excluded.first_out, occurrences = excluded.occurrences`)
    const rows = this.db
      .prepare(`SELECT ${columns} FROM alarms WHERE status != 'cleared'`)
      .all() as AlarmRow[]
    for (const row of rows) this.setOpen(fromRow(row))
    const shelved = this.db
      .prepare(`SELECT ${columns} FROM alarms WHERE shelved_until > ? ORDER BY id`)
      .all(this.options.now()) as AlarmRow[]
    for (const row of shelved) this.keepShelf(fromRow(row))
    this.nextId = nextId(this.db, 'alarms')
  }

  private keepShelf(alarm: Alarm): void {
    const key = `${alarm.entityId}/${alarm.type}`
    if (alarm.shelvedUntil === null) this.shelves.delete(key)
    else
      this.shelves.set(key, {
        until: alarm.shelvedUntil,
        by: alarm.shelvedBy ?? '',
        reason: alarm.shelveReason ?? '',
      })
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
    const row = {
      ...alarm,
      payload: JSON.stringify(alarm.payload),
      comments: JSON.stringify(alarm.comments),
      occurrences: JSON.stringify(alarm.occurrences),
      firstOut: alarm.firstOut ? 1 : 0,
    }
    this.writer.write(() => this.upsert.run(row))
    if (alarm.status !== 'cleared') return
    this.unwritten.set(alarm.id, alarm)
    this.writer.afterCommit(() => {
      if (this.unwritten.get(alarm.id) === alarm) this.unwritten.delete(alarm.id)
    })
  }

  openAlarm(entityId: number, type: string): Alarm | undefined {
    return this.open.get(`${entityId}/${type}`)
  }

  /**
   * Raises an alarm or counts another occurrence of the open one. A `replay` (a retained message
   * delivered again on subscribe) with an unchanged payload is the same occurrence, not a new one.
   * Answers the alarms changed: the raised one, and the first-out of its burst when it just became one.
   */
  raise(
    entityId: number,
    alarm: { type: string; severity: Severity; text: string; time: number; payload: unknown },
    replay: boolean,
  ): Alarm[] {
    const key = `${entityId}/${alarm.type}`
    const current = this.open.get(key)
    if (current) {
      if (replay && JSON.stringify(current.payload) === JSON.stringify(alarm.payload)) return []
      const next: Alarm = {
        ...current,
        severity: alarm.severity,
        text: alarm.text,
        payload: alarm.payload,
        count: current.count + 1,
        lastTime: alarm.time,
        occurrences: [...current.occurrences, alarm.time].slice(-OCCURRENCE_HISTORY),
      }
      this.setOpen(next)
      this.save(next)
      return [next]
    }
    const shelf = this.shelves.get(key)
    const shelved = shelf && shelf.until > this.options.now() ? shelf : undefined
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
      shelvedUntil: shelved?.until ?? null,
      shelvedBy: shelved?.by ?? null,
      shelveReason: shelved?.reason ?? null,
      comments: [],
      firstOut: false,
      occurrences: [alarm.time],
    }
    this.setOpen(created)
    this.save(created)
    const changed = [created]
    const leaderId = this.firstOut.follow(this.options.groupOf(entityId), created.id, alarm.time)
    const leader = leaderId === undefined ? undefined : this.byId(leaderId)
    if (leader && !leader.firstOut) changed.push(this.update(leader, { firstOut: true }))
    return changed
  }

  /** Saves a change of an alarm, open or not (a comment on a cleared alarm, say). */
  private update(alarm: Alarm, change: Partial<Alarm>): Alarm {
    const updated: Alarm = { ...alarm, ...change }
    if (updated.status !== 'cleared') this.setOpen(updated)
    this.save(updated)
    return updated
  }

  shelve(alarm: Alarm, shelf: Shelf): Alarm {
    const updated = this.update(alarm, {
      shelvedUntil: shelf.until,
      shelvedBy: shelf.by,
      shelveReason: shelf.reason,
    })
    this.keepShelf(updated)
    return updated
  }

  unshelve(alarm: Alarm): Alarm {
    const updated = this.update(alarm, { shelvedUntil: null, shelvedBy: null, shelveReason: null })
    this.keepShelf(updated)
    return updated
  }

  comment(alarm: Alarm, comment: AlarmComment): Alarm {
    return this.update(alarm, { comments: [...alarm.comments, comment] })
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
    return this.update(alarm, { status: 'acknowledged', acknowledgedAt: time, acknowledgedBy: by })
  }

  /** The earliest end of a running shelf among open alarms, epoch ms. */
  nextShelfEnd(): number | undefined {
    let next: number | undefined
    for (const alarm of this.open.values())
      if (alarm.shelvedUntil !== null && (next === undefined || alarm.shelvedUntil < next))
        next = alarm.shelvedUntil
    return next
  }

  /** An alarm by id: open ones from memory (they may not be flushed yet), others from the database. */
  byId(id: number): Alarm | undefined {
    for (const alarm of this.open.values()) if (alarm.id === id) return alarm
    const unwritten = this.unwritten.get(id)
    if (unwritten) return unwritten
    const row = this.db.prepare(`SELECT ${columns} FROM alarms WHERE id = ?`).get(id) as AlarmRow | undefined
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
    const rows = pageRows<AlarmRow>(this.db, {
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
    for (const key of this.shelves.keys()) if (gone.has(Number(key.split('/')[0]))) this.shelves.delete(key)
    this.firstOut.forget(entityIds)
    const list = entityIds.join(',')
    this.writer.write(() => this.db.prepare(`DELETE FROM alarms WHERE entity_id IN (${list})`).run())
  }

  applyRetention(days: number, now: number): number {
    return this.db
      .prepare("DELETE FROM alarms WHERE status = 'cleared' AND cleared_at < ?")
      .run(now - days * 86_400_000).changes
  }
}
