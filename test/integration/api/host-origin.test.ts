import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { startCore, type TestCore } from '../../helpers/core'
import { type RawRequest, rawRequest } from '../../helpers/raw-http'

// The core answers only to its own names (a page whose DNS name was re-pointed at 127.0.0.1 still
// sends that name as Host), only to its own origin, and takes the session cookie only from its
// own pages: browsers send the cookie from every port of the same host.

let t: TestCore
let port: string
let own: string
let cookie: string
let alarmId: number

const send = (request: RawRequest) => rawRequest(t.ready.http, request)
const bearer = () => ({ authorization: `Bearer ${t.ready.token}` })

async function alarmStatus(): Promise<string> {
  return ((await t.json(`/api/v1/alarms/${alarmId}`)) as { status: string }).status
}

beforeAll(async () => {
  t = await startCore({ allowedHosts: ['edge.example', 'proxy.example:8443'] })
  port = new URL(t.ready.http).port
  own = `http://127.0.0.1:${port}`
  const minted = (await (await t.http('/api/v1/login-codes', { method: 'POST' })).json()) as { url: string }
  cookie = (await fetch(minted.url, { redirect: 'manual' })).headers.get('set-cookie')?.split(';')[0] ?? ''
  expect(cookie).toMatch(/^edgetwin_session=/)
  const device = await t.client()
  await device.publishAsync(
    'te/device/main///a/overheat',
    JSON.stringify({ text: 'Hot', severity: 'major' }),
    {
      retain: true,
      qos: 1,
    },
  )
  alarmId = await vi.waitFor(async () => {
    const [alarm] = (await t.json('/api/v1/alarms')) as Array<{ id: number }>
    if (!alarm) throw new Error('no alarm yet')
    return alarm.id
  })
})
afterAll(() => t.stop())

describe('Host (DNS rebinding)', () => {
  it('refuses a request whose Host is not one of the core names, on every kind of route', async () => {
    for (const path of ['/api/v1/entities', '/api/v1/health', '/', '/te/v1/entities', '/login?code=x']) {
      const answer = await send({ path, headers: { host: 'attacker.example', ...bearer() } })
      expect(answer.status, path).toBe(403)
      expect(JSON.parse(answer.body).error).toMatch(/host name/)
    }
    const rebound = await send({
      path: '/api/v1/entities',
      headers: { host: `attacker.example:${port}`, cookie },
    })
    expect(rebound.status).toBe(403)
  })

  it('refuses the WebSocket stream under a foreign Host', async () => {
    const ws = new WebSocket(`${t.ready.http.replace('http', 'ws')}/api/v1/stream`, {
      headers: { host: `attacker.example:${port}`, ...bearer() },
    })
    ws.on('error', () => {})
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.once('open', () => resolve(101))
    })
    ws.terminate()
    expect(status).toBe(403)
  })

  it('answers to the loopback names on its own port, and to the configured names', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await send({ path: '/api/v1/entities', headers: { host, ...bearer() } })).status, host).toBe(
        200,
      )
    }
    for (const host of ['edge.example', `edge.example:${port}`, 'edge.example:443', 'proxy.example:8443']) {
      expect((await send({ path: '/api/v1/entities', headers: { host, ...bearer() } })).status, host).toBe(
        200,
      )
    }
    for (const host of [
      `127.0.0.1:${Number(port) + 1}`,
      'localhost',
      'proxy.example:9000',
      'sub.edge.example',
    ]) {
      expect((await send({ path: '/api/v1/entities', headers: { host, ...bearer() } })).status, host).toBe(
        403,
      )
    }
  })
})

describe('Origin', () => {
  it('refuses a request from another origin, with a token or a cookie, and sends no CORS headers', async () => {
    for (const origin of [
      'http://evil.example',
      `http://127.0.0.1:${Number(port) + 1}`,
      `http://localhost:${port}`,
      'null',
    ]) {
      const answer = await send({ path: '/api/v1/entities', headers: { origin, ...bearer() } })
      expect(answer.status, origin).toBe(403)
      expect(answer.headers['access-control-allow-origin']).toBeUndefined()
    }
    const preflight = await send({
      method: 'OPTIONS',
      path: `/api/v1/alarms/${alarmId}/acknowledge`,
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBeGreaterThanOrEqual(400)
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    const ownOrigin = await send({ path: '/api/v1/entities', headers: { origin: own, ...bearer() } })
    expect(ownOrigin.status).toBe(200)
    expect(ownOrigin.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('the session cookie', () => {
  const acknowledge = (headers: Record<string, string>) =>
    send({ method: 'POST', path: `/api/v1/alarms/${alarmId}/acknowledge`, headers: { cookie, ...headers } })

  it('does not change anything without a sign that the request comes from the core page', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'none' },
    ]
    for (const headers of attempts) {
      const answer = await acknowledge(headers)
      expect(answer.status, JSON.stringify(headers)).toBe(403)
    }
    expect(await alarmStatus()).toBe('active')
    const codes = await send({ method: 'POST', path: '/api/v1/login-codes', headers: { cookie } })
    expect(codes.status).toBe(403)
  })

  it('changes what the core page asks for (Origin or Sec-Fetch-Site: same-origin)', async () => {
    expect((await acknowledge({ 'sec-fetch-site': 'same-origin' })).status).toBe(200)
    expect(await alarmStatus()).toBe('acknowledged')
    expect((await acknowledge({ origin: own })).status).toBe(409)
  })

  it('is refused on reads another site starts, and accepted on plain reads and the core page reads', async () => {
    expect(
      (await send({ path: '/api/v1/entities', headers: { cookie, 'sec-fetch-site': 'same-site' } })).status,
    ).toBe(403)
    expect(
      (await send({ path: '/api/v1/entities', headers: { cookie, 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(403)
    expect(
      (await send({ path: '/api/v1/entities', headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status,
    ).toBe(200)
    expect((await send({ path: '/api/v1/entities', headers: { cookie } })).status).toBe(200)
  })

  it('opens the stream only for the core page', async () => {
    const open = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${t.ready.http.replace('http', 'ws')}/api/v1/stream`, { headers })
        ws.on('error', () => {})
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        ws.once('open', () => {
          ws.close()
          resolve(101)
        })
      })
    expect(await open({ cookie })).toBe(403)
    expect(await open({ cookie, origin: `http://127.0.0.1:${Number(port) + 1}` })).toBe(403)
    expect(await open({ cookie, origin: own })).toBe(101)
  })

  it('leaves bearer-token clients alone: no Origin needed for a change', async () => {
    const clear = await send({ method: 'POST', path: `/api/v1/alarms/${alarmId}/clear`, headers: bearer() })
    expect(clear.status).toBe(200)
  })
})

describe('answer headers', () => {
  it('keeps API answers out of caches and the pages out of frames and other origins', async () => {
    for (const path of ['/api/v1/health', '/api/v1/entities', '/api/v1/nothing', '/te/v1/entities']) {
      const answer = await send({ path, headers: bearer() })
      expect(answer.headers['cache-control'], path).toBe('no-store')
      expect(answer.headers['x-frame-options']).toBe('DENY')
      expect(answer.headers['cross-origin-opener-policy']).toBe('same-origin')
      expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin')
      expect(answer.headers['permissions-policy']).toContain('camera=()')
      expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    }
    const page = await send({ path: '/' })
    expect(page.headers['cache-control']).toBe('no-cache')
    expect(page.headers['x-frame-options']).toBe('DENY')
  })
})
