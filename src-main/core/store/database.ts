import Database from 'better-sqlite3'
import { migrate } from './migrations'

export type { Database } from 'better-sqlite3'

/** Opens (creating if needed) the twin database: WAL, NORMAL sync, migrations applied. */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS crash can lose
    // the last transactions. The broker's PUBACK promise is about the process, see DESIGN §4.
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    // 16 MB of page cache: the hot indexes and days of rollups fit, and it is part of the core's
    // resident memory, which a flood of data must not double.
    db.pragma('cache_size = -16000')
    db.pragma('temp_store = MEMORY')
    migrate(db)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}
