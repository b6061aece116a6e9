import path from 'node:path'
import Database from 'better-sqlite3'
import { removeDir, tempDir } from './processes'

export interface SqliteRawResult {
  rows: number
  seconds: number
  valuesPerSecond: number
  sqliteVersion: string
}

/** Rows per transaction, as the core's BatchWriter (maxOps). */
const TRANSACTION = 5000

/**
 * (b) The store's limit: better-sqlite3 inserting (series_id, time, value) rows into a table shaped like
 * EdgeTwin's `samples` (WITHOUT ROWID, PRIMARY KEY (series_id, time)) in transactions of 5,000, WAL,
 * synchronous=NORMAL, in a temp file. Rows interleave `seriesCount` series with strictly increasing
 * times, as the core's receive stamps are.
 */
export function sqliteRaw(rows: number, seriesCount: number): SqliteRawResult {
  const dir = tempDir('sqlite')
  const db = new Database(path.join(dir, 'raw.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    // The core's other connection settings (store/database.ts), so only the statement shape differs.
    db.pragma('cache_size = -32000')
    db.pragma('temp_store = MEMORY')
    db.exec(`CREATE TABLE samples (
      series_id INTEGER NOT NULL,
      time REAL NOT NULL,
      value REAL NOT NULL,
      PRIMARY KEY (series_id, time)
    ) WITHOUT ROWID`)
    const values = new Float64Array(rows)
    for (let i = 0; i < rows; i++) values[i] = ((i * 7919) % 100_000) / 100
    const insert = db.prepare('INSERT INTO samples (series_id, time, value) VALUES (?, ?, ?)')
    const batch = db.transaction((from: number, to: number, base: number) => {
      for (let i = from; i < to; i++) insert.run((i % seriesCount) + 1, base + i * 0.001, values[i] as number)
    })
    const base = Date.now()
    const started = performance.now()
    for (let from = 0; from < rows; from += TRANSACTION) batch(from, Math.min(rows, from + TRANSACTION), base)
    const seconds = (performance.now() - started) / 1000
    const stored = (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n
    if (stored !== rows) throw new Error(`sqlite raw: ${stored} rows stored, ${rows} inserted`)
    const sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
    return { rows: stored, seconds, valuesPerSecond: rows / seconds, sqliteVersion }
  } finally {
    db.close()
    removeDir(dir)
  }
}
