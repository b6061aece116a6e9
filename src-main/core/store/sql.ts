import type { Database } from 'better-sqlite3'

/** A WHERE clause built from optional filters; a filter whose value is undefined is left out. */
export class Where {
  private readonly clauses: string[] = []
  readonly args: unknown[] = []

  /** `clause` has one `?` for `value`. */
  add(clause: string, value: unknown): this {
    if (value === undefined) return this
    this.clauses.push(clause)
    this.args.push(value)
    return this
  }

  /** `column IN (?, …)` for a list of values; undefined leaves the filter out, an empty list matches nothing. */
  oneOf(column: string, values: readonly unknown[] | undefined): this {
    if (values === undefined) return this
    return this.raw(values.length ? `${column} IN (${values.map(() => '?').join(',')})` : '0', values)
  }

  /** A clause with its own placeholders. */
  raw(clause: string, args: readonly unknown[] = []): this {
    this.clauses.push(clause)
    this.args.push(...args)
    return this
  }

  /** A list of integer ids as an IN clause (inlined: they are numbers, and lists can be long). */
  in(column: string, ids: number[] | undefined): this {
    if (ids) this.clauses.push(`${column} IN (${ids.map(Number).join(',') || 'NULL'})`)
    return this
  }

  toString(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : ''
  }
}

/**
 * The next id of a table whose rows are numbered in memory, so inserts can wait in a batch while
 * their ids are already handed out.
 */
export function nextId(db: Database, table: string): number {
  const row = db.prepare(`SELECT max(id) AS id FROM ${table}`).get() as { id: number | null }
  return (row.id ?? 0) + 1
}
