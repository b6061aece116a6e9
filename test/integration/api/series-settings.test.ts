import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startCore, type TestCore, tempDir } from '../../helpers/core'

type Detail = { series: Array<{ id: number; name: string; settings: unknown }> }
type Audit = Array<{
  actor: string
  action: string
  entity: string
  target: string
  before: unknown
  after: unknown
}>

const OVEN = 'device%2Foven%2F%2F'
const FULL = {
  displayName: 'Oven temperature',
  unit: '°F',
  range: { min: 0, max: 250 },
  limits: { lowLow: 20, low: 40, high: 200, highHigh: 230 },
  setpoint: 180,
  expectedPeriod: 2,
}

describe('series settings', () => {
  const dataDir = tempDir()
  let t: TestCore
  let id: number

  const put = (body: unknown, series = id) =>
    t.http(`/api/v1/series/${series}/settings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  beforeAll(async () => {
    t = await startCore({ dataDir })
    const client = await t.client()
    await client.publishAsync('te/device/oven//', JSON.stringify({ '@type': 'child-device', name: 'Oven' }), {
      retain: true,
      qos: 1,
    })
    await client.publishAsync('te/device/oven///m/climate', JSON.stringify({ temperature: 150 }), { qos: 1 })
    await vi.waitFor(async () => {
      const detail = await t.json<Detail>(`/api/v1/entities/${OVEN}`)
      id = detail.series.find((s) => s.name === 'temperature')?.id as number
      expect(id).toBeGreaterThan(0)
    })
  })
  afterAll(async () => {
    await t.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('has none until set, then answers them on the series, in the entity and in the series read', async () => {
    expect(await t.json(`/api/v1/series/${id}/settings`)).toEqual({
      series: id,
      entity: 'device/oven//',
      type: 'climate',
      name: 'temperature',
      settings: null,
    })
    const response = await put(FULL)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ series: id, settings: FULL })
    const detail = await t.json<Detail>(`/api/v1/entities/${OVEN}`)
    expect(detail.series.find((s) => s.id === id)?.settings).toEqual(FULL)
    const read = await t.json<{ series: { settings: unknown } }>(`/api/v1/series/${id}`)
    expect(read.series.settings).toEqual(FULL)
  })

  it('refuses settings that make no sense with a 400 that says why, and keeps the stored ones', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ range: { min: 10, max: 5 } }, /range\.min.*below.*range\.max/],
      [{ range: { min: 1 } }, /max/],
      [{ limits: { low: 50, high: 40 } }, /lowLow ≤ low < high ≤ highHigh.*"low" 50 is above "high" 40/],
      [{ limits: { high: 90, highHigh: 80 } }, /"high" 90 is above "highHigh" 80/],
      [{ limits: { low: 40, high: 40 } }, /order/],
      [{ displayName: '  ' }, /displayName.*1 to 80/],
      [{ displayName: 'x'.repeat(81) }, /displayName/],
      [{ unit: 'u'.repeat(21) }, /unit/],
      [{ expectedPeriod: 0 }, /expectedPeriod.*seconds/],
      [{ expectedPeriod: 700_000 }, /expectedPeriod/],
      [{ setpoint: 'hot' }, /setpoint/],
      [{ colour: 'red' }, /colour|additional/],
      ['{"setpoint": 1e999}', /setpoint/],
      ['not json', /.+/],
    ]
    for (const [body, reason] of cases) {
      const response = await put(body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(((await response.json()) as { error: string }).error, JSON.stringify(body)).toMatch(reason)
    }
    expect((await t.json<{ settings: unknown }>(`/api/v1/series/${id}/settings`)).settings).toEqual(FULL)
  })

  it('answers 404 for a series that does not exist', async () => {
    expect((await put({ setpoint: 1 }, 99_999)).status).toBe(404)
    expect((await t.http('/api/v1/series/99999/settings')).status).toBe(404)
    expect((await t.http('/api/v1/series/99999/settings', { method: 'DELETE' })).status).toBe(404)
  })

  it('records every change in the audit trail with before and after', async () => {
    const response = await put({ ...FULL, setpoint: 175 })
    expect(response.status).toBe(200)
    await vi.waitFor(async () => {
      const audit = await t.json<Audit>('/api/v1/audit?action=series.settings&entity=device%2Foven%2F%2F')
      expect(audit[0]).toMatchObject({
        actor: 'api',
        action: 'series.settings',
        entity: 'device/oven//',
        target: 'climate/temperature',
        before: { setpoint: 180 },
        after: { setpoint: 175 },
      })
    })
  })

  it('keeps the settings across a restart of the core', async () => {
    await t.stop()
    t = await startCore({ dataDir })
    expect((await t.json<{ settings: unknown }>(`/api/v1/series/${id}/settings`)).settings).toEqual({
      ...FULL,
      setpoint: 175,
    })
  })

  it('removes them with DELETE (audited) and the removal lasts across a restart too', async () => {
    const response = await t.http(`/api/v1/series/${id}/settings`, { method: 'DELETE' })
    expect(response.status).toBe(204)
    expect((await t.json<{ settings: unknown }>(`/api/v1/series/${id}/settings`)).settings).toBeNull()
    await vi.waitFor(async () => {
      const audit = await t.json<Audit>('/api/v1/audit?action=series.settings')
      expect(audit[0]).toMatchObject({ before: { setpoint: 175 }, after: null })
    })
    await t.stop()
    t = await startCore({ dataDir })
    expect((await t.json<{ settings: unknown }>(`/api/v1/series/${id}/settings`)).settings).toBeNull()
  })

  it('treats an empty object as "no settings", and stores only what was given', async () => {
    expect((await (await put({ setpoint: 3, limits: {} })).json()) as unknown).toMatchObject({
      settings: { setpoint: 3 },
    })
    expect((await (await put({})).json()) as unknown).toMatchObject({ settings: null })
  })

  it('is in the OpenAPI document with its schemas', async () => {
    const doc = await t.json<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>(
      '/api/v1/openapi.json',
    )
    const path = doc.paths['/api/v1/series/{id}/settings']
    expect(Object.keys(path ?? {}).sort()).toEqual(['delete', 'get', 'put'])
    expect(JSON.stringify(path?.put?.requestBody)).toContain('expectedPeriod')
  })
})

describe('the built-in simulation’s defaults', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  const tankLevel = async (t: TestCore) => {
    let found: { id: number; settings: unknown } | undefined
    await vi.waitFor(
      async () => {
        const detail = await t.json<Detail>('/api/v1/entities/device%2Ftank%2F%2F')
        found = detail.series.find((s) => s.name === 'level')
        expect(found).toBeDefined()
      },
      { timeout: 10_000 },
    )
    return found as { id: number; settings: unknown }
  }

  it('gives the line’s series the limits its alarm rules judge, and never replaces a person’s settings', async () => {
    let t = await startCore({ dataDir, sim: true, seed: 7 })
    try {
      const level = await tankLevel(t)
      expect(level.settings).toEqual({ range: { min: 0, max: 100 }, limits: { low: 15 } })
      const mine = { displayName: 'Buffer level', limits: { low: 20 } }
      const response = await t.http(`/api/v1/series/${level.id}/settings`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mine),
      })
      expect(response.status).toBe(200)
      await t.stop()
      t = await startCore({ dataDir, sim: true, seed: 7 })
      expect((await tankLevel(t)).settings).toEqual(mine)
    } finally {
      await t.stop()
    }
  })
})
