import { createHmac, randomBytes } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'

/**
 * A session ends this long after it was last used. Every request of an open UI uses it, so a kiosk
 * in service never meets this; one switched off for a two-week shutdown logs in again afterwards.
 */
export const SESSION_IDLE_MS = 14 * 86_400_000
/**
 * A session ends this long after its login however busy it is: re-authentication at least every
 * 30 days (OWASP ASVS 4.0.3 V3.3.2, level 1). Long enough that a kiosk logs in about once a month;
 * the desktop shell then opens a fresh login itself.
 */
export const SESSION_MAX_MS = 30 * 86_400_000
/**
 * A login code printed or handed to a window is good for one use within this time: long enough to
 * copy a link from the terminal into a browser, short enough that a leaked link (a log, a ready
 * file, the shell history) is soon worthless.
 */
export const LOGIN_CODE_MS = 15 * 60_000
/** Login codes waiting to be used; minting more forgets the oldest (each window needs one). */
export const MAX_LOGIN_CODES = 32

const secret = () => randomBytes(32).toString('base64url')

/**
 * UI sessions behind an HttpOnly cookie, kept in SQLite so they survive a restart of the core, and
 * the one-time login codes that start them (kept in memory: a restart prints a new one).
 *
 * A session is stored as an HMAC of its cookie value keyed with the API token: a copy of the
 * database opens no session, and a new token (a restart with another `--token`) ends every session
 * opened with the old one, since their cookies no longer hash to a stored row.
 */
export class SessionStore {
  private readonly codes = new Map<string, number>()
  private statements!: Record<'insert' | 'touch' | 'find' | 'remove' | 'expire', Statement>

  constructor(
    private readonly db: Database,
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const db = this.db
    this.statements = {
      insert: db.prepare(
        'INSERT INTO sessions (id_hash, created_at, last_seen, user_agent) VALUES (?, ?, ?, ?)',
      ),
      touch: db.prepare('UPDATE sessions SET last_seen = ? WHERE id_hash = ?'),
      find: db.prepare('SELECT created_at, last_seen FROM sessions WHERE id_hash = ?'),
      remove: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      expire: db.prepare('DELETE FROM sessions WHERE last_seen < ? OR created_at < ?'),
    }
    this.expire()
  }

  /** A new one-time login code. */
  createCode(): string {
    const time = this.now()
    for (const [code, expires] of this.codes) if (expires <= time) this.codes.delete(code)
    // Map order is insertion order: the first key is the oldest code.
    while (this.codes.size >= MAX_LOGIN_CODES) this.codes.delete(this.codes.keys().next().value as string)
    const code = secret()
    this.codes.set(code, time + LOGIN_CODE_MS)
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
    this.statements.insert.run(this.hash(id), time, time, userAgent?.slice(0, 200) ?? null)
    // Opening is rare (a login): a good moment to forget the sessions that ended.
    this.expire()
    return id
  }

  /** True for a live session, whose idle time starts again. */
  check(id: string): boolean {
    const key = this.hash(id)
    const row = this.statements.find.get(key) as { created_at: number; last_seen: number } | undefined
    const time = this.now()
    if (!row || row.last_seen < time - SESSION_IDLE_MS || row.created_at < time - SESSION_MAX_MS) return false
    // Written at most once a minute per session: requests are many, the idle clock is coarse.
    if (time - row.last_seen > 60_000) this.statements.touch.run(time, key)
    return true
  }

  close(id: string): void {
    this.statements.remove.run(this.hash(id))
  }

  private hash(id: string): string {
    return createHmac('sha256', this.token).update(id).digest('hex')
  }

  private expire(): void {
    const time = this.now()
    this.statements.expire.run(time - SESSION_IDLE_MS, time - SESSION_MAX_MS)
  }
}
