import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createApiServer } from '../../../src-main/core/api'
import { startCore, type TestCore } from '../../helpers/core'
import { isThinEdge, PUBLIC, pathVariants, type Route, routeList } from '../../helpers/http-routes'
import { rawRequest } from '../../helpers/raw-http'

// One access decision per request, made on the route the router matched: whatever the spelling of
// a path (percent-encoded letters, dot segments, doubled slashes, case), a request without a
// credential reaches nothing but a refusal (401/403), a 404 or a 400. /te/v1 is open to loopback
// clients only, by the socket's address.

const REFUSED = [400, 401, 403, 404]
const key = (route: Route) => `${route.method} ${route.template}`

let t: TestCore
let routes: Route[]
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })

beforeAll(async () => {
  // edge.test: the name the injected (non-loopback) requests below use as Host.
  t = await startCore({ allowedHosts: ['edge.test'] })
  routes = await routeList(t.ready.http)
})
afterAll(async () => {
  agent.destroy()
  await t.stop()
})

function send(route: Route, path: string, headers: Record<string, string> = {}) {
  const withBody = route.method !== 'GET' && route.method !== 'DELETE'
  return new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: new URL(t.ready.http).port,
        method: route.method,
        path,
        agent,
        headers: withBody ? { 'content-type': 'application/json', ...headers } : headers,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(withBody ? '{}' : undefined)
  })
}

/** Sends every spelling of every route, a few at a time; returns those answered outside `allowed`. */
async function sweep(
  list: Route[],
  allowed: (route: Route, status: number) => boolean,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const jobs = list.flatMap((route) => pathVariants(route.path).map((path) => ({ route, path })))
  const wrong: string[] = []
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as (typeof jobs)[number]
      const status = await send(job.route, job.path, headers)
      if (!allowed(job.route, status)) wrong.push(`${job.route.method} ${job.path} → ${status}`)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  expect(jobs.length).toBeGreaterThan(1000)
  return wrong
}

describe('the access decision on the matched route', () => {
  it('declares exactly the expected routes public: every other one refuses a request without a token', async () => {
    for (const route of routes) {
      const status = await send(route, route.path)
      if (PUBLIC.has(key(route))) expect(status, key(route)).toBeLessThan(500)
      else if (isThinEdge(route.path)) expect(status, key(route)).not.toBe(401)
      else expect(status, key(route)).toBe(401)
    }
  })

  it('refuses every other spelling of every protected route without a token', async () => {
    const wrong = await sweep(
      routes.filter((route) => !PUBLIC.has(key(route)) && !isThinEdge(route.path)),
      (_route, status) => REFUSED.includes(status),
    )
    expect(wrong).toEqual([])
  })

  it('refuses them with a wrong token or an unknown session cookie too', async () => {
    const protectedRoutes = routes.filter(
      (route) => !PUBLIC.has(key(route)) && !isThinEdge(route.path) && route.method === 'GET',
    )
    const wrong = await sweep(protectedRoutes, (_route, status) => REFUSED.includes(status), {
      cookie: 'edgetwin_session=not-a-session',
    })
    expect(wrong).toEqual([])
  })

  it('answers an unmatched URL with a 404 that holds nothing', async () => {
    const answer = await rawRequest(t.ready.http, { path: '/api/v1/nothing%2Fhere/../x' })
    expect(answer.status).toBe(404)
    expect(Object.keys(JSON.parse(answer.body))).toEqual(['error'])
  })

  it('refuses the WebSocket stream without a token under every spelling', async () => {
    const base = t.ready.http.replace('http', 'ws')
    const variants = ['/api/v1/stream', ...pathVariants('/api/v1/stream')]
    const outcomes = await Promise.all(
      variants.map(
        (path) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(base + path)
            ws.once('open', () => {
              ws.terminate()
              resolve(`${path} → open`)
            })
            ws.once('unexpected-response', (_req, res) => {
              resolve(REFUSED.includes(res.statusCode ?? 0) ? 'refused' : `${path} → ${res.statusCode}`)
              ws.terminate()
            })
            ws.once('error', () => resolve('refused'))
          }),
      ),
    )
    expect(outcomes.filter((o) => o !== 'refused')).toEqual([])
  })

  it('serves /te/v1 to loopback clients without a token, under any spelling that reaches it', async () => {
    const teRoutes = routes.filter((route) => isThinEdge(route.path))
    expect(await sweep(teRoutes, (_route, status) => status < 500)).toEqual([])
  })

  it('refuses /te/v1 to clients that are not on loopback, under every spelling', async () => {
    // The socket's address decides: Fastify's request injection sets it, a LAN client is simulated.
    const api = createApiServer(t.core.parts)
    await api.app.ready()
    try {
      const teRoutes = routes.filter((route) => isThinEdge(route.path))
      const wrong: string[] = []
      for (const route of teRoutes) {
        for (const path of [route.path, ...pathVariants(route.path)]) {
          const answer = await api.app.inject({
            method: route.method as 'GET',
            url: path,
            remoteAddress: '192.0.2.7',
            headers: { host: 'edge.test', 'content-type': 'application/json' },
            payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
          })
          if (!REFUSED.includes(answer.statusCode))
            wrong.push(`${route.method} ${path} → ${answer.statusCode}`)
        }
      }
      expect(wrong).toEqual([])
      const withToken = await api.app.inject({
        url: '/%74e/v1/entities',
        remoteAddress: '192.0.2.7',
        headers: { host: 'edge.test', authorization: `Bearer ${t.ready.token}` },
      })
      expect(withToken.statusCode).toBe(200)
    } finally {
      await api.close()
    }
  })
})
