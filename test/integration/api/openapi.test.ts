import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

type OpenApi = {
  openapi: string
  info: { title: string }
  paths: Record<string, Record<string, { summary?: string }>>
}

describe('OpenAPI document', () => {
  let t: TestCore
  beforeAll(async () => {
    t = await startCore()
  })
  afterAll(() => t.stop())

  it('is served without a token and documents the /api/v1 routes from their schemas (the WebSocket is in docs/api.md)', async () => {
    const response = await t.http('/api/v1/openapi.json', { auth: false })
    expect(response.status).toBe(200)
    const doc = (await response.json()) as OpenApi
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.info.title).toBe('EdgeTwin API')
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    )
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/v1/health',
        'GET /api/v1/status',
        'GET /api/v1/entities',
        'GET /api/v1/entities/{id}',
        'GET /api/v1/series/{id}',
        'GET /api/v1/events',
        'GET /api/v1/alarms',
        'POST /api/v1/alarms/{id}/acknowledge',
        'POST /api/v1/alarms/{id}/clear',
        'GET /api/v1/audit',
      ]),
    )
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const operation of Object.values(methods)) expect(operation.summary, path).toBeTruthy()
    }
  })

  it('rejects query parameters the schema does not allow, with a JSON error', async () => {
    const response = await t.http('/api/v1/alarms?status=open')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: expect.stringContaining('status') })
    const extra = await t.http('/api/v1/events?colour=red')
    expect(extra.status).toBe(400)
  })

  it('answers unknown routes with 404 and a JSON error', async () => {
    const response = await t.http('/api/v1/nothing-here')
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: 'no route for GET /api/v1/nothing-here' })
  })
})
