import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../../helpers/chromium'
import { startCore, type TestCore } from '../../helpers/core'

// The OpenAPI document says what every route answers, errors included, and the core serves a
// rendered reference of it from its own install: nothing is fetched from another host.

interface Response {
  description?: string
  content?: Record<string, { schema?: { $ref?: string } & Record<string, unknown> }>
}
interface Operation {
  summary?: string
  parameters?: Array<{ name: string; in: string; description?: string }>
  responses: Record<string, Response>
  security?: unknown[]
}
interface OpenApi {
  servers?: Array<{ url: string }>
  info: { description?: string }
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> }
  paths: Record<string, Record<string, Operation>>
}

describe('API reference', () => {
  let t: TestCore
  let doc: OpenApi
  let operations: Array<[string, Operation]>
  beforeAll(async () => {
    t = await startCore()
    doc = (await (await t.http('/api/v1/openapi.json', { auth: false })).json()) as OpenApi
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]): [string, Operation] => [
        `${method.toUpperCase()} ${path}`,
        operation,
      ]),
    )
  })
  afterAll(() => t.stop())

  it('gives every operation a described 2xx answer with a schema (or a 204 with none)', () => {
    expect(operations.length).toBeGreaterThan(30)
    for (const [name, operation] of operations) {
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'))
      expect(success.length, name).toBeGreaterThan(0)
      for (const [status, response] of success) {
        expect(response.description, `${name} ${status}`).not.toBe('Default Response')
        if (status === '204') continue
        const schemas = Object.values(response.content ?? {}).map((content) => content.schema)
        expect(schemas.length, `${name} ${status} has no schema`).toBeGreaterThan(0)
      }
    }
  })

  it('documents the errors of every operation with the one shared error body', () => {
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'], properties: { error: {} } })
    for (const [name, operation] of operations) {
      const errors = Object.entries(operation.responses).filter(([status]) => /^[45]/.test(status))
      expect(errors.length, name).toBeGreaterThan(0)
      for (const [status, response] of errors) {
        expect(response.description, `${name} ${status}`).toBeTruthy()
        // The shared body, or (where a route says more, as a stale configuration edit's 409 names
        // the current version) a body that has its `error` too.
        const schema = response.content?.['application/json']?.schema
        if (schema?.$ref === undefined)
          expect(schema, `${name} ${status}`).toMatchObject({
            required: expect.arrayContaining(['error']),
            properties: { error: { type: 'string' } },
          })
        else expect(schema.$ref, `${name} ${status}`).toBe('#/components/schemas/Error')
      }
      const statuses = Object.keys(operation.responses)
      const isPublic = operation.security?.length === 0
      if (!isPublic) expect(statuses, name).toContain('401')
      if (name.includes('{')) expect(statuses, name).toContain('404')
      if (operation.parameters?.length) expect(statuses, name).toContain('400')
    }
    // A route's own statuses, from its config.
    expect(Object.keys(doc.paths['/api/v1/sync/retry']?.post?.responses ?? {})).toContain('409')
  })

  it('describes every parameter and says where the API is and how to authenticate', () => {
    for (const [name, operation] of operations) {
      for (const parameter of operation.parameters ?? [])
        expect(parameter.description, `${name}: ${parameter.in} ${parameter.name}`).toBeTruthy()
    }
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })])
    expect(doc.info.description).toMatch(/Bearer/)
  })

  it('answers errors in the documented shape, also where a route declares a response schema', async () => {
    const missing = await t.http('/api/v1/alarms/999999/acknowledge', { method: 'POST' })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: expect.stringContaining('999999') })
    const retry = await t.http('/api/v1/sync/retry', { method: 'POST' })
    expect(retry.status).toBe(409)
    expect(await retry.json()).toEqual({ error: 'sync is not waiting to reconnect' })
  })

  describe('rendered', () => {
    let browser: Browser
    beforeAll(async () => {
      browser = await launchChromium()
    })
    afterAll(() => browser.close())

    it('is served without a token at /api/v1/docs from the install, and renders the operations', async () => {
      const page = await browser.newPage()
      const origin = new URL(t.ready.http).origin
      const requested: string[] = []
      const problems: string[] = []
      page.on('request', (request) => requested.push(request.url()))
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text())
      })
      page.on('pageerror', (error) => problems.push(error.message))
      const answer = await page.goto(`${t.ready.http}/api/v1/docs`)
      expect(answer?.status()).toBe(200)
      await page.getByText('GET', { exact: true }).first().waitFor()
      const operationsShown = await page.locator('.opblock').count()
      expect(operationsShown).toBe(operations.length)
      await expect(page.locator('.info .title').textContent()).resolves.toContain('EdgeTwin API')
      expect(requested.length).toBeGreaterThan(3)
      expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))).toEqual([])
      // Nothing the page needs is refused by the core's content security policy.
      expect(problems).toEqual([])
      await page.close()
    })
  })
})
