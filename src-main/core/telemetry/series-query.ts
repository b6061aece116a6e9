import type { Database, Statement } from 'better-sqlite3'
import { decodeChunk } from './sample-chunk'

export interface SeriesPoint {
  /** Start of the bucket (or the sample's own time for raw points), epoch ms. */
  time: number
  min: number
  max: number
  avg: number
  count: number
}

export type SeriesResolution = 'raw' | 'minute' | 'hour'

export const MINUTE = 60_000
export const HOUR = 3_600_000
export const DAY = 86_400_000

/**
 * Reads a series over a time range, reduced to at most `points` buckets with min/max/avg: from raw
 * samples when the buckets are shorter than a minute (and raw samples are still kept that far back),
 * else from the coarsest rollup that still gives `points` buckets — a 30-day chart reads 43,200
 * minute rows, not 2.6 million samples.
 */
export class SeriesQuery {
  private readonly chunks: Statement
  private readonly rollups: Record<'minute' | 'hour', Statement>

  constructor(db: Database) {
    this.chunks = db.prepare(
      'SELECT count, data FROM sample_chunks WHERE series_id = ? AND last_time >= ? AND first_time < ?',
    )
    const rollup = (table: string) =>
      db.prepare(`SELECT ? + CAST((bucket - ?) / ? AS INTEGER) * ? AS time, min(min) AS min, max(max) AS max,
          sum(sum) / sum(count) AS avg, sum(count) AS count
        FROM ${table} WHERE series_id = ? AND bucket >= ? AND bucket < ? GROUP BY 1 ORDER BY 1`)
    this.rollups = { minute: rollup('rollups_minute'), hour: rollup('rollups_hour') }
  }

  run(
    seriesId: number,
    from: number,
    to: number,
    points: number,
    rawDays: number,
  ): { resolution: SeriesResolution; points: SeriesPoint[] } {
    const bucket = Math.max((to - from) / points, 1)
    if (bucket < MINUTE && from >= Date.now() - rawDays * DAY) {
      return { resolution: 'raw', points: this.raw(seriesId, from, to, points, bucket) }
    }
    const resolution = bucket >= HOUR ? 'hour' : 'minute'
    const firstBucket = Math.floor(from / MINUTE) * MINUTE
    return {
      resolution,
      points: this.rollups[resolution].all(
        from,
        from,
        bucket,
        bucket,
        seriesId,
        firstBucket,
        to,
      ) as SeriesPoint[],
    }
  }

  /** Raw samples in [from, to): each one when they are at most `points`, else bucketed. */
  private raw(seriesId: number, from: number, to: number, points: number, bucket: number): SeriesPoint[] {
    const times: number[] = []
    const values: number[] = []
    for (const row of this.chunks.iterate(seriesId, from, to) as Iterable<{ count: number; data: Buffer }>) {
      const chunk = decodeChunk(row.data, row.count)
      for (let i = 0; i < row.count; i++) {
        const time = chunk[i] as number
        if (time >= from && time < to) {
          times.push(time)
          values.push(chunk[row.count + i] as number)
        }
      }
    }
    const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number))
    if (times.length <= points) {
      return order.map((i) => {
        const value = values[i] as number
        return { time: times[i] as number, min: value, max: value, avg: value, count: 1 }
      })
    }
    const buckets = new Map<number, SeriesPoint & { sum: number }>()
    for (const i of order) {
      const time = from + Math.floor(((times[i] as number) - from) / bucket) * bucket
      const value = values[i] as number
      const point = buckets.get(time)
      if (point) {
        if (value < point.min) point.min = value
        if (value > point.max) point.max = value
        point.sum += value
        point.count++
      } else buckets.set(time, { time, min: value, max: value, avg: 0, sum: value, count: 1 })
    }
    return [...buckets.values()].map(({ sum, ...point }) => ({ ...point, avg: sum / point.count }))
  }
}
