import { rmSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { FAILURE_BURST, FAILURE_REFILL_MS } from '../../../src-main/core/auth/failure-limiter'
import {
  LOGIN_CODE_MS,
  MAX_LOGIN_CODES,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  SessionStore,
} from '../../../src-main/core/auth/session-store'
import { openDatabase } from '../../../src-main/core/store/database'
import { startCore, type TestCore, tempDir } from '../../helpers/core'
import { rawRequest } from '../../helpers/raw-http'

// Anti-automation on every credential check (bearer token, token typed at login, login code): a
// burst of failures per client address, then 429 with Retry-After for a few seconds, logged once
// a minute; and sessions bounded in time and bound to the API token.

let t: TestCore
const logLines: Array<{ msg: string; client?: string; failures?: number }> = []

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line))
      callback()
    },
  })
  t = await startCore({ logger: pino({ level: 'warn' }, sink) })
})
afterAll(() => t.stop())

const from = (
  localAddress: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
) => rawRequest(t.ready.http, { path, headers, localAddress, method, body })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('failed authentication from one address', () => {
  it('is refused, then limited with 429 and Retry-After, without a check that could tell a guess', async () => {
    for (let i = 0; i < FAILURE_BURST; i++)
      expect((await from('127.0.0.2', '/api/v1/entities', bearer(`guess-${i}`))).status).toBe(403)
    const limited = await from('127.0.0.2', '/api/v1/entities', bearer('guess-again'))
    expect(limited.status).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(FAILURE_REFILL_MS / 1000)
    expect(JSON.parse(limited.body).error).toMatch(/too many failed attempts/)
    // While limited even the right token is not checked, so a correct guess looks like the rest.
    expect((await from('127.0.0.2', '/api/v1/entities', bearer(t.ready.token))).status).toBe(429)
  })

  it('leaves other addresses and session cookies alone, and ends by itself', async () => {
    expect((await from('127.0.0.1', '/api/v1/entities', bearer(t.ready.token))).status).toBe(200)
    const minted = (await (await t.http('/api/v1/login-codes', { method: 'POST' })).json()) as { url: string }
    const cookie =
      (await fetch(minted.url, { redirect: 'manual' })).headers.get('set-cookie')?.split(';')[0] ?? ''
    expect((await from('127.0.0.2', '/api/v1/entities', { cookie })).status).toBe(200)
    // The loopback user who stops failing is back within one refill interval.
    await vi.waitFor(
      async () =>
        expect((await from('127.0.0.2', '/api/v1/entities', bearer(t.ready.token))).status).toBe(200),
      { timeout: FAILURE_REFILL_MS + 3000, interval: 500 },
    )
  })

  it('limits the token typed at login and login codes the same way', async () => {
    const login = (token: string) =>
      from(
        '127.0.0.3',
        '/api/v1/session',
        { 'content-type': 'application/json' },
        'POST',
        JSON.stringify({ token }),
      )
    for (let i = 0; i < FAILURE_BURST; i++) expect((await login(`guess-${i}`)).status).toBe(403)
    expect((await login(t.ready.token)).status).toBe(429)
    for (let i = 0; i < FAILURE_BURST; i++) {
      const answer = await from('127.0.0.4', `/login?code=guess-${i}`)
      expect(answer.status).toBe(303)
      expect(answer.headers.location).toBe('/#/login/expired')
    }
    expect((await from('127.0.0.4', '/login?code=another')).status).toBe(429)
  })

  it('logs the failures of an address once a minute, with their count', async () => {
    await vi.waitFor(() => expect(logLines.some((line) => line.client === '127.0.0.4')).toBe(true))
    const lines = logLines.filter((line) => line.msg.startsWith('failed authentication'))
    expect(lines.map((line) => line.client).sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    expect(lines.every((line) => line.failures === 1)).toBe(true)
  })
})

describe('login codes and sessions', () => {
  it('keeps a bounded number of login codes: minting more forgets the oldest', async () => {
    const mint = async () =>
      ((await (await t.http('/api/v1/login-codes', { method: 'POST' })).json()) as { url: string }).url
    const urls: string[] = []
    for (let i = 0; i < MAX_LOGIN_CODES + 8; i++) urls.push(await mint())
    const use = async (url: string) => (await fetch(url, { redirect: 'manual' })).headers.get('location')
    for (const url of urls.slice(0, 8)) expect(await use(url)).toBe('/#/login/expired')
    expect(await use(urls.at(-1) as string)).toBe('/')
  })

  it('ends every session when the core restarts with another token', async () => {
    const dataDir = tempDir()
    const first = await startCore({ dataDir, token: 'the-first-token-0123456789' })
    const minted = (await (await first.http('/api/v1/login-codes', { method: 'POST' })).json()) as {
      url: string
    }
    const cookie =
      (await fetch(minted.url, { redirect: 'manual' })).headers.get('set-cookie')?.split(';')[0] ?? ''
    expect((await first.http('/api/v1/entities', { auth: false, headers: { cookie } })).status).toBe(200)
    await first.stop()
    const same = await startCore({ dataDir, token: 'the-first-token-0123456789' })
    expect((await same.http('/api/v1/entities', { auth: false, headers: { cookie } })).status).toBe(200)
    await same.stop()
    const other = await startCore({ dataDir, token: 'a-new-token-after-a-leak-42' })
    try {
      const answer = await other.http('/api/v1/entities', { auth: false, headers: { cookie } })
      expect(answer.status).toBe(401)
      expect(await answer.json()).toEqual({ error: 'session expired: log in again' })
    } finally {
      await other.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('ends a session after its idle time, and after its lifetime however busy, and a code after its time', () => {
    const dir = tempDir()
    const db = openDatabase(path.join(dir, 'sessions.db'))
    let now = 1_700_000_000_000
    const store = new SessionStore(db, 'a-token-for-the-clock-test', () => now)
    try {
      store.start()
      const idle = store.open('kiosk')
      now += SESSION_IDLE_MS - 60_000
      expect(store.check(idle)).toBe(true)
      now += SESSION_IDLE_MS + 1
      expect(store.check(idle)).toBe(false)

      const busy = store.open('kiosk')
      const opened = now
      while (now < opened + SESSION_MAX_MS - 86_400_000) {
        now += 86_400_000
        expect(store.check(busy)).toBe(true)
      }
      now = opened + SESSION_MAX_MS + 1
      expect(store.check(busy)).toBe(false)

      const code = store.createCode()
      now += LOGIN_CODE_MS + 1
      expect(store.redeemCode(code)).toBe(false)
      const fresh = store.createCode()
      now += LOGIN_CODE_MS - 1000
      expect(store.redeemCode(fresh)).toBe(true)
      expect(store.redeemCode(fresh)).toBe(false)
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
