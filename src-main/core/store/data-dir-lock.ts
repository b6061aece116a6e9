import { closeSync, openSync, readSync, rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

/** Marks the lock file as EdgeTwin's (SQLite header `application_id`, offset 68): "EdTw". */
const APPLICATION_ID = 0x45645477
/** The owner's pid is in the header's `user_version` (offset 60), readable while the file is locked. */
const PID_OFFSET = 60

/**
 * One core per data dir: two writers on one twin would interleave broker sessions and batches.
 *
 * The lock is SQLite's own exclusive lock on `edgetwin.lock`, an `fcntl` lock the kernel releases
 * when the process dies however it dies (kill -9, power loss, a container restarted with the same
 * pid), so a restart never finds a stale lock, and a live owner is never mistaken for a dead one
 * (no pid guessing: a recycled pid or a zombie cannot hold it). SQLite also keeps two connections of
 * one process apart, so a second core in the same process is refused too.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'edgetwin.lock')
  try {
    return takeLock(file)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'SQLITE_BUSY') {
      const owner = ownerPid(file)
      throw new Error(`data dir ${dataDir} is in use by another EdgeTwin${owner ? ` (pid ${owner})` : ''}`)
    }
    // A lock file of an earlier EdgeTwin held a pid as text (and one torn by a power loss is no
    // better): no live core holds such a file.
    if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw error
    rmSync(file, { force: true })
    return takeLock(file)
  }
}

function takeLock(file: string): () => void {
  const db = new Database(file, { timeout: 0 })
  try {
    // Exclusive locking mode keeps the write lock the first write takes until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE')
    // The file's content is only its header: no journal file beside it.
    db.pragma('journal_mode = MEMORY')
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma(`user_version = ${process.pid}`)
  } catch (error) {
    db.close()
    throw error
  }
  return () => db.close()
}

/** The pid the owner wrote into the locked file's header (plain reads ignore fcntl locks). */
function ownerPid(file: string): number | undefined {
  try {
    const fd = openSync(file, 'r')
    try {
      const header = Buffer.alloc(4)
      if (readSync(fd, header, 0, 4, PID_OFFSET) !== 4) return undefined
      return header.readUInt32BE(0) || undefined
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}
