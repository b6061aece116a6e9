import type { Database, Statement } from 'better-sqlite3'
import type { BatchWriter } from '../store/writer'

export interface Series {
  id: number
  entityId: number
  type: string
  name: string
  lastTime: number | undefined
  lastValue: number | undefined
}

export interface SeriesPoint {
  /** Start of the bucket (or the sample's own time for raw points), epoch ms. */
  time: number
  min: number
  max: number
  avg: number
  count: number
}

export type SeriesResolution = 'raw' | 'minute' | 'hour'

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

interface Aggregate {
  min: number
  max: number
  sum: number
  count: number
}

/**
 * Measurement history: raw samples plus minute and hour rollups maintained at ingest, so a chart over
 * 30 days reads ~43k minute rows instead of 2.6M raw ones. Samples are buffered in flat arrays and
 * written by the batch writer's transaction.
 */
export class SeriesStore {
  private readonly byKey = new Map<string, Series>()
  private readonly byId = new Map<number, Series>()
  private nextId = 1
  private newSeries: Series[] = []
  private readonly dirty = new Set<Series>()
  private sampleSeries: number[] = []
  private sampleTimes: number[] = []
  private sampleValues: number[] = []
  private statements!: Record<
    'insertSeries' | 'insertSample' | 'rollMinute' | 'rollHour' | 'lastValue',
    Statement
  >

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    const db = this.db
    const rollup = (table: string) =>
      db.prepare(`INSERT INTO ${table} (series_id, bucket, min, max, sum, count) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(series_id, bucket) DO UPDATE SET min = min(min, excluded.min), max = max(max, excluded.max),
          sum = sum + excluded.sum, count = count + excluded.count`)
    this.statements = {
      insertSeries: db.prepare('INSERT INTO series (id, entity_id, type, name) VALUES (?, ?, ?, ?)'),
      insertSample: db.prepare('INSERT OR REPLACE INTO samples (series_id, time, value) VALUES (?, ?, ?)'),
      rollMinute: rollup('rollups_minute'),
      rollHour: rollup('rollups_hour'),
      lastValue: db.prepare('UPDATE series SET last_time = ?, last_value = ? WHERE id = ?'),
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
      })
      this.nextId = Math.max(this.nextId, row.id + 1)
    }
    this.writer.beforeEachCommit({ write: () => this.write(), committed: () => this.committed() })
  }

  private index(series: Series): void {
    this.byKey.set(`${series.entityId}\u0000${series.type}\u0000${series.name}`, series)
    this.byId.set(series.id, series)
  }

  get(id: number): Series | undefined {
    return this.byId.get(id)
  }

  find(entityId: number, type: string, name: string): Series | undefined {
    return this.byKey.get(`${entityId}\u0000${type}\u0000${name}`)
  }

  ofEntity(entityId: number): Series[] {
    return [...this.byId.values()].filter((s) => s.entityId === entityId)
  }

  /** Buffers one value; the series is created on first sight. Returns the series. */
  add(entityId: number, type: string, name: string, time: number, value: number): Series {
    let series = this.find(entityId, type, name)
    if (!series) {
      series = { id: this.nextId++, entityId, type, name, lastTime: undefined, lastValue: undefined }
      this.index(series)
      this.newSeries.push(series)
    }
    if (series.lastTime === undefined || time >= series.lastTime) {
      series.lastTime = time
      series.lastValue = value
      this.dirty.add(series)
    }
    this.sampleSeries.push(series.id)
    this.sampleTimes.push(time)
    this.sampleValues.push(value)
    return series
  }

  get buffered(): number {
    return this.sampleSeries.length
  }

  private committed(): void {
    this.newSeries = []
    this.sampleSeries = []
    this.sampleTimes = []
    this.sampleValues = []
    this.dirty.clear()
  }

  private write(): void {
    const { insertSeries, insertSample, rollMinute, rollHour, lastValue } = this.statements
    for (const s of this.newSeries) insertSeries.run(s.id, s.entityId, s.type, s.name)
    const ids = this.sampleSeries
    const times = this.sampleTimes
    const values = this.sampleValues
    const minutes = new Map<string, Aggregate>()
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number
      const time = times[i] as number
      const value = values[i] as number
      insertSample.run(id, time, value)
      const key = `${id}:${Math.floor(time / MINUTE) * MINUTE}`
      const agg = minutes.get(key)
      if (agg) {
        if (value < agg.min) agg.min = value
        if (value > agg.max) agg.max = value
        agg.sum += value
        agg.count++
      } else minutes.set(key, { min: value, max: value, sum: value, count: 1 })
    }
    const hours = new Map<string, Aggregate>()
    for (const [key, agg] of minutes) {
      const [id, bucket] = key.split(':').map(Number) as [number, number]
      rollMinute.run(id, bucket, agg.min, agg.max, agg.sum, agg.count)
      const hourKey = `${id}:${Math.floor(bucket / HOUR) * HOUR}`
      const hour = hours.get(hourKey)
      if (hour) {
        hour.min = Math.min(hour.min, agg.min)
        hour.max = Math.max(hour.max, agg.max)
        hour.sum += agg.sum
        hour.count += agg.count
      } else hours.set(hourKey, { ...agg })
    }
    for (const [key, agg] of hours) {
      const [id, bucket] = key.split(':').map(Number) as [number, number]
      rollHour.run(id, bucket, agg.min, agg.max, agg.sum, agg.count)
    }
    for (const s of this.dirty) lastValue.run(s.lastTime, s.lastValue, s.id)
  }

  /**
   * Values of a series in [from, to) reduced to at most `points` buckets with min/max/avg. Reads raw
   * samples when they are few enough or the buckets are shorter than a minute, else the coarsest
   * rollup that still gives `points` buckets.
   */
  query(
    seriesId: number,
    from: number,
    to: number,
    points: number,
    rawDays: number,
  ): { resolution: SeriesResolution; points: SeriesPoint[] } {
    const bucket = Math.max((to - from) / points, 1)
    const rawCovers = from >= Date.now() - rawDays * DAY
    if (bucket < MINUTE && rawCovers) {
      const raw = this.db
        .prepare(
          'SELECT time, value FROM samples WHERE series_id = ? AND time >= ? AND time < ? ORDER BY time LIMIT ?',
        )
        .all(seriesId, from, to, points + 1) as Array<{ time: number; value: number }>
      if (raw.length <= points) {
        return {
          resolution: 'raw',
          points: raw.map((r) => ({ time: r.time, min: r.value, max: r.value, avg: r.value, count: 1 })),
        }
      }
      return {
        resolution: 'raw',
        points: this.db
          .prepare(`SELECT ? + CAST((time - ?) / ? AS INTEGER) * ? AS time, min(value) AS min, max(value) AS max,
              avg(value) AS avg, count(*) AS count
            FROM samples WHERE series_id = ? AND time >= ? AND time < ? GROUP BY 1 ORDER BY 1`)
          .all(from, from, bucket, bucket, seriesId, from, to) as SeriesPoint[],
      }
    }
    const table = bucket >= HOUR ? 'rollups_hour' : 'rollups_minute'
    return {
      resolution: table === 'rollups_hour' ? 'hour' : 'minute',
      points: this.db
        .prepare(`SELECT ? + CAST((bucket - ?) / ? AS INTEGER) * ? AS time, min(min) AS min, max(max) AS max,
            sum(sum) / sum(count) AS avg, sum(count) AS count
          FROM ${table} WHERE series_id = ? AND bucket >= ? AND bucket < ? GROUP BY 1 ORDER BY 1`)
        .all(from, from, bucket, bucket, seriesId, Math.floor(from / MINUTE) * MINUTE, to) as SeriesPoint[],
    }
  }

  /** Forgets the series of removed entities and deletes their history. */
  removeEntities(entityIds: number[]): void {
    const gone = new Set(entityIds)
    const ids: number[] = []
    for (const s of this.byId.values()) {
      if (!gone.has(s.entityId)) continue
      ids.push(s.id)
      this.byId.delete(s.id)
      this.byKey.delete(`${s.entityId}\u0000${s.type}\u0000${s.name}`)
      this.dirty.delete(s)
    }
    if (ids.length === 0) return
    const drop = new Set(ids)
    // Drop samples still buffered for these series so the flush does not resurrect them.
    const keep = this.sampleSeries.map((id) => !drop.has(id))
    this.sampleSeries = this.sampleSeries.filter((_, i) => keep[i])
    this.sampleTimes = this.sampleTimes.filter((_, i) => keep[i])
    this.sampleValues = this.sampleValues.filter((_, i) => keep[i])
    this.newSeries = this.newSeries.filter((s) => !drop.has(s.id))
    this.writer.write(() => {
      const list = ids.join(',')
      for (const table of ['samples', 'rollups_minute', 'rollups_hour']) {
        this.db.prepare(`DELETE FROM ${table} WHERE series_id IN (${list})`).run()
      }
      this.db.prepare(`DELETE FROM series WHERE id IN (${list})`).run()
    })
  }

  /** Deletes history older than the retention, one series at a time (each a short transaction). */
  applyRetention(retention: { rawDays: number; minuteDays: number; hourDays: number }, now: number): number {
    let deleted = 0
    const tables: Array<[string, string, number]> = [
      ['samples', 'time', retention.rawDays],
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
