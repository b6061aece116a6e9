import { createHash, randomBytes } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'

/** A session lives this long after it was last used: a kiosk that is on every day stays logged in. */
export const SESSION_IDLE_MS = 30 * 86_400_000
/** A login code printed or handed to the desktop window is good for one use within this time. */
export const LOGIN_CODE_MS = 24 * 3_600_000

const hash = (value: string) => createHash('sha256').update(value).digest('hex')
const secret = () => randomBytes(32).toString('base64url')

/**
 * UI sessions behind an HttpOnly cookie, kept in SQLite so they survive a restart of the core, and
 * the one-time login codes that start them (kept in memory: a restart prints a new one).
 */
export class SessionStore {
  private readonly codes = new Map<string, number>()
  private statements!: Record<'insert' | 'touch' | 'find' | 'remove' | 'expire', Statement>

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const db = this.db
    this.statements = {
      insert: db.prepare(
        'INSERT INTO sessions (id_hash, created_at, last_seen, user_agent) VALUES (?, ?, ?, ?)',
      ),
      touch: db.prepare('UPDATE sessions SET last_seen = ? WHERE id_hash = ?'),
      find: db.prepare('SELECT last_seen FROM sessions WHERE id_hash = ?'),
      remove: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      expire: db.prepare('DELETE FROM sessions WHERE last_seen < ?'),
    }
    this.statements.expire.run(this.now() - SESSION_IDLE_MS)
  }

  /** A new one-time login code. */
  createCode(): string {
    const code = secret()
    this.codes.set(code, this.now() + LOGIN_CODE_MS)
    return code
  }

  /** Uses up a login code; true when it was valid. */
  redeemCode(code: string): boolean {
    const expires = this.codes.get(code)
    this.codes.delete(code)
    return expires !== undefined && expires > this.now()
  }

  /** Opens a session; returns the cookie value. */
  open(userAgent: string | undefined): string {
    const id = secret()
    const time = this.now()
    this.statements.insert.run(hash(id), time, time, userAgent?.slice(0, 200) ?? null)
    return id
  }

  /** True for a live session, whose idle time starts again. */
  check(id: string): boolean {
    const key = hash(id)
    const row = this.statements.find.get(key) as { last_seen: number } | undefined
    const time = this.now()
    if (!row || row.last_seen < time - SESSION_IDLE_MS) return false
    // Written at most once a minute per session: requests are many, the idle clock is coarse.
    if (time - row.last_seen > 60_000) this.statements.touch.run(time, key)
    return true
  }

  close(id: string): void {
    this.statements.remove.run(hash(id))
  }
}
