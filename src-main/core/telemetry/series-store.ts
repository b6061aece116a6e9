import type { Database, Statement } from 'better-sqlite3'
import type { BatchWriter } from '../store/writer'
import { decodeChunk, encodeChunk } from './sample-chunk'
import { type ExpectedPeriod, expectedPeriod, IntervalWindow, PERIOD_WINDOW } from './series-period'
import { DAY, HOUR, MINUTE, type SeriesPoint, SeriesQuery, type SeriesResolution } from './series-query'

export type { SeriesPoint, SeriesResolution }

export interface Series {
  id: number
  entityId: number
  type: string
  name: string
  lastTime: number | undefined
  lastValue: number | undefined
  /** The last intervals between its values, for its expected period (series-period.ts); lazily refilled. */
  intervals: IntervalWindow | undefined
}

interface Aggregate {
  min: number
  max: number
  sum: number
  count: number
}

/** Samples of one series waiting for the next commit. */
interface Pending {
  series: Series
  times: number[]
  values: number[]
}

/**
 * Measurement history: raw samples, written per series and batch as one chunk row, plus minute and
 * hour rollups maintained at ingest. Samples wait in memory for the batch writer's transaction.
 */
export class SeriesStore {
  /** Series by `<entity id>\0<type>`, then by name: one key per message, not per value. */
  private readonly groups = new Map<string, Map<string, Series>>()
  private readonly byId = new Map<number, Series>()
  private readonly byEntity = new Map<number, Series[]>()
  private nextId = 1
  private newSeries: Series[] = []
  private pending = new Map<number, Pending>()
  private pendingCount = 0
  private statements!: Record<
    'insertSeries' | 'insertChunk' | 'rollMinute' | 'rollHour' | 'lastValue' | 'recentChunks',
    Statement
  >
  private reader!: SeriesQuery

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
    /** The period (ms) a person set for a series (its settings), which wins over the learned one. */
    private readonly configuredPeriod: (series: Series) => number | undefined = () => undefined,
  ) {}

  start(): void {
    const db = this.db
    const rollup = (table: string) =>
      db.prepare(`INSERT INTO ${table} (series_id, bucket, min, max, sum, count) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(series_id, bucket) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max),
          sum = sum + excluded.sum, count = count + excluded.count`)
    this.statements = {
      insertSeries: db.prepare('INSERT INTO series (id, entity_id, type, name) VALUES (?, ?, ?, ?)'),
      insertChunk: db.prepare(
        'INSERT INTO sample_chunks (series_id, first_time, last_time, count, data) VALUES (?, ?, ?, ?, ?)',
      ),
      rollMinute: rollup('rollups_minute'),
      rollHour: rollup('rollups_hour'),
      lastValue: db.prepare('UPDATE series SET last_time = ?, last_value = ? WHERE id = ?'),
      recentChunks: db.prepare(
        'SELECT count, data FROM sample_chunks WHERE series_id = ? ORDER BY last_time DESC LIMIT ?',
      ),
    }
    for (const row of db.prepare('SELECT * FROM series').all() as Array<{
      id: number
      entity_id: number
      type: string
      name: string
      last_time: number | null
      last_value: number | null
    }>) {
      this.index({
        id: row.id,
        entityId: row.entity_id,
        type: row.type,
        name: row.name,
        lastTime: row.last_time ?? undefined,
        lastValue: row.last_value ?? undefined,
        intervals: undefined,
      })
      this.nextId = Math.max(this.nextId, row.id + 1)
    }
    this.reader = new SeriesQuery(db)
    this.writer.beforeEachCommit({ write: () => this.write(), committed: () => this.committed() })
  }

  private index(series: Series): void {
    const key = `${series.entityId}\u0000${series.type}`
    let group = this.groups.get(key)
    if (!group) {
      group = new Map()
      this.groups.set(key, group)
    }
    group.set(series.name, series)
    this.byId.set(series.id, series)
    const ofEntity = this.byEntity.get(series.entityId)
    if (ofEntity) ofEntity.push(series)
    else this.byEntity.set(series.entityId, [series])
  }

  get(id: number): Series | undefined {
    return this.byId.get(id)
  }

  find(entityId: number, type: string, name: string): Series | undefined {
    return this.groups.get(`${entityId}\u0000${type}`)?.get(name)
  }

  ofEntity(entityId: number): Series[] {
    return this.byEntity.get(entityId) ?? []
  }

  /**
   * How often the series is expected to get a value (series-period.ts), or undefined while it has
   * too few values to tell. After a restart the intervals are refilled from the stored samples.
   */
  expectedPeriod(series: Series): ExpectedPeriod | undefined {
    if (!series.intervals) {
      series.intervals = new IntervalWindow()
      series.intervals.addTimes(this.recentTimes(series.id))
    }
    return expectedPeriod(series.intervals.period(), this.configuredPeriod(series))
  }

  /** The times of the series' last stored samples (at most PERIOD_WINDOW + 1), ascending. */
  private recentTimes(seriesId: number): number[] {
    const times: number[] = []
    const rows = this.statements.recentChunks.all(seriesId, PERIOD_WINDOW + 1) as Array<{
      count: number
      data: Buffer
    }>
    for (const row of rows.reverse()) {
      const chunk = decodeChunk(row.data, row.count)
      for (let i = 0; i < row.count; i++) times.push(chunk[i] as number)
    }
    return times.sort((a, b) => a - b).slice(-(PERIOD_WINDOW + 1))
  }

  /** Buffers the values of one measurement message; a series is created on first sight. */
  add(
    entityId: number,
    type: string,
    time: number,
    names: readonly string[],
    values: readonly number[],
  ): void {
    const group = this.groups.get(`${entityId}\u0000${type}`)
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const value = values[i] as number
      let series = group?.get(name)
      if (!series) {
        series = {
          id: this.nextId++,
          entityId,
          type,
          name,
          lastTime: undefined,
          lastValue: undefined,
          intervals: new IntervalWindow(),
        }
        this.index(series)
        this.newSeries.push(series)
      }
      if (series.lastTime === undefined || time >= series.lastTime) {
        if (series.lastTime !== undefined) series.intervals?.add(time - series.lastTime)
        series.lastTime = time
        series.lastValue = value
      }
      let pending = this.pending.get(series.id)
      if (!pending) {
        pending = { series, times: [], values: [] }
        this.pending.set(series.id, pending)
      }
      pending.times.push(time)
      pending.values.push(value)
    }
    this.pendingCount += names.length
  }

  get buffered(): number {
    return this.pendingCount
  }

  private committed(): void {
    this.newSeries = []
    this.pending = new Map()
    this.pendingCount = 0
  }

  private write(): void {
    const { insertSeries, insertChunk, rollMinute, rollHour, lastValue } = this.statements
    for (const s of this.newSeries) insertSeries.run(s.id, s.entityId, s.type, s.name)
    for (const { series, times, values } of this.pending.values()) {
      let first = Number.POSITIVE_INFINITY
      let last = Number.NEGATIVE_INFINITY
      const minutes = new Map<number, Aggregate>()
      for (let i = 0; i < times.length; i++) {
        const time = times[i] as number
        const value = values[i] as number
        if (time < first) first = time
        if (time > last) last = time
        const minute = Math.floor(time / MINUTE) * MINUTE
        const agg = minutes.get(minute)
        if (agg) {
          if (value < agg.min) agg.min = value
          if (value > agg.max) agg.max = value
          agg.sum += value
          agg.count++
        } else minutes.set(minute, { min: value, max: value, sum: value, count: 1 })
      }
      insertChunk.run(series.id, first, last, times.length, encodeChunk(times, values))
      const hours = new Map<number, Aggregate>()
      for (const [minute, agg] of minutes) {
        rollMinute.run(series.id, minute, agg.min, agg.max, agg.sum, agg.count)
        const hour = Math.floor(minute / HOUR) * HOUR
        const into = hours.get(hour)
        if (into) {
          into.min = Math.min(into.min, agg.min)
          into.max = Math.max(into.max, agg.max)
          into.sum += agg.sum
          into.count += agg.count
        } else hours.set(hour, { ...agg })
      }
      for (const [hour, agg] of hours) rollHour.run(series.id, hour, agg.min, agg.max, agg.sum, agg.count)
      lastValue.run(series.lastTime, series.lastValue, series.id)
    }
  }

  /** Values of a series in [from, to), at most `points` buckets (see SeriesQuery). */
  query(
    seriesId: number,
    from: number,
    to: number,
    points: number,
    rawDays: number,
  ): { resolution: SeriesResolution; points: SeriesPoint[] } {
    return this.reader.run(seriesId, from, to, points, rawDays)
  }

  /** Forgets the series of removed entities and deletes their history. */
  removeEntities(entityIds: number[]): void {
    const gone = new Set(entityIds)
    const ids: number[] = []
    for (const s of this.byId.values()) {
      if (!gone.has(s.entityId)) continue
      ids.push(s.id)
      this.byId.delete(s.id)
      this.byEntity.delete(s.entityId)
      this.groups.get(`${s.entityId}\u0000${s.type}`)?.delete(s.name)
    }
    if (ids.length === 0) return
    const drop = new Set(ids)
    // Drop samples still buffered for these series so the flush does not resurrect them.
    for (const id of ids) {
      this.pendingCount -= this.pending.get(id)?.times.length ?? 0
      this.pending.delete(id)
    }
    this.newSeries = this.newSeries.filter((s) => !drop.has(s.id))
    this.writer.write(() => {
      const list = ids.join(',')
      for (const table of ['sample_chunks', 'rollups_minute', 'rollups_hour']) {
        this.db.prepare(`DELETE FROM ${table} WHERE series_id IN (${list})`).run()
      }
      this.db.prepare(`DELETE FROM series WHERE id IN (${list})`).run()
    })
  }

  /**
   * Deletes history older than the retention, one series at a time (each a short transaction); a
   * chunk goes once its newest sample is older than the retention.
   */
  applyRetention(retention: { rawDays: number; minuteDays: number; hourDays: number }, now: number): number {
    let deleted = 0
    const tables: Array<[string, string, number]> = [
      ['sample_chunks', 'last_time', retention.rawDays],
      ['rollups_minute', 'bucket', retention.minuteDays],
      ['rollups_hour', 'bucket', retention.hourDays],
    ]
    for (const [table, column, days] of tables) {
      const statement = this.db.prepare(`DELETE FROM ${table} WHERE series_id = ? AND ${column} < ?`)
      for (const id of this.byId.keys()) deleted += statement.run(id, now - days * DAY).changes
    }
    return deleted
  }
}
