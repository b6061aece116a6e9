import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

const cookieOf = (response: Response) => response.headers.get('set-cookie')?.split(';')[0] ?? ''

describe('UI session', () => {
  let t: TestCore
  beforeAll(async () => {
    t = await startCore()
  })
  afterAll(() => t.stop())

  it('logs in once with the one-time URL: an HttpOnly, SameSite=Strict cookie and a redirect to /', async () => {
    const response = await fetch(t.ready.login, { redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    const setCookie = response.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^edgetwin_session=[\w-]+;/)
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Strict/)
    const cookie = cookieOf(response)
    const entities = await t.http('/api/v1/entities', { auth: false, headers: { cookie } })
    expect(entities.status).toBe(200)
    expect(await (await t.http('/api/v1/session', { auth: false, headers: { cookie } })).json()).toEqual({
      via: 'ui',
    })

    const again = await fetch(t.ready.login, { redirect: 'manual' })
    expect(again.headers.get('location')).toBe('/#/login/expired')
    expect(again.headers.get('set-cookie')).toBeNull()
  })

  it('logs in with the token typed once, and logs out', async () => {
    const wrong = await t.http('/api/v1/session', {
      auth: false,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'not-the-token' }),
    })
    expect(wrong.status).toBe(403)
    const login = await t.http('/api/v1/session', {
      auth: false,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.ready.token }),
    })
    expect(login.status).toBe(204)
    const cookie = cookieOf(login)
    expect((await t.http('/api/v1/alarms', { auth: false, headers: { cookie } })).status).toBe(200)
    const logout = await t.http('/api/v1/session', { auth: false, method: 'DELETE', headers: { cookie } })
    expect(logout.status).toBe(204)
    expect(logout.headers.get('set-cookie')).toMatch(/edgetwin_session=;/)
    const after = await t.http('/api/v1/alarms', { auth: false, headers: { cookie } })
    expect(after.status).toBe(401)
    expect(await after.json()).toEqual({ error: 'session expired: log in again' })
  })

  it('mints login URLs for a window that holds the token (the desktop shell)', async () => {
    const minted = (await (await t.http('/api/v1/login-codes', { method: 'POST' })).json()) as { url: string }
    expect(minted.url).toMatch(new RegExp(`^${t.ready.http}/login\\?code=`))
    expect((await fetch(minted.url, { redirect: 'manual' })).headers.get('location')).toBe('/')
  })

  it('keeps sessions across a restart of the core', async () => {
    const minted = (await (await t.http('/api/v1/login-codes', { method: 'POST' })).json()) as { url: string }
    const session = cookieOf(await fetch(minted.url, { redirect: 'manual' }))
    const before = t
    await before.core.stop()
    const again = await startCore({ dataDir: before.dataDir })
    try {
      expect(
        (await again.http('/api/v1/entities', { auth: false, headers: { cookie: session } })).status,
      ).toBe(200)
    } finally {
      await again.stop()
      await before.stop()
    }
    t = await startCore()
  })

  it('sends a strict Content-Security-Policy and no-sniff on every answer', async () => {
    const page = await t.http('/', { auth: false })
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect((await t.http('/api/v1/health', { auth: false })).headers.get('x-content-type-options')).toBe(
      'nosniff',
    )
  })
})
