import type { Database } from 'better-sqlite3'
import type { Where } from './sql'

export interface PageQuery {
  table: string
  /** What a row is read as (columns, aliases). */
  columns: string
  where: Where
  /** The list's order, ending on `id` so that it is total. */
  order: string
  limit: number
}

/**
 * One page of a list, read lazily: first the ids of at most `limit` rows in the list's order (small
 * whatever the rows carry, so ordering them is cheap), then each row by id as the caller takes it.
 * A page cut short by its byte budget reads no more rows than it sends. Consume it synchronously:
 * the ids are a snapshot, and a row deleted meanwhile is skipped.
 */
export function* pageRows<R>(db: Database, q: PageQuery): Generator<R> {
  const ids = db
    .prepare(`SELECT id FROM ${q.table} ${q.where} ORDER BY ${q.order} LIMIT ?`)
    .pluck()
    .all(...q.where.args, q.limit) as number[]
  const one = db.prepare(`SELECT ${q.columns} FROM ${q.table} WHERE id = ?`)
  for (const id of ids) {
    const row = one.get(id) as R | undefined
    if (row) yield row
  }
}

/** `time` then `id`, both descending: the rows after a cursor `[time, id]` (newest first lists). */
export function olderThan(where: Where, timeColumn: string, cursor: number[] | undefined): Where {
  if (!cursor) return where
  const [time, id] = cursor
  return where.raw(`(${timeColumn} < ? OR (${timeColumn} = ? AND id < ?))`, [time, time, id])
}
