import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

describe('core lifecycle and health', () => {
  let t: TestCore
  beforeAll(async () => {
    t = await startCore()
  })
  afterAll(() => t.stop())

  it('answers /api/v1/health without a token', async () => {
    const response = await t.http('/api/v1/health', { auth: false })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'ok', version: expect.any(String) })
  })

  it('refuses /api/v1 without a token (401) and with a wrong one (403)', async () => {
    const none = await t.http('/api/v1/entities', { auth: false })
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: 'missing bearer token' })
    const wrong = await t.http('/api/v1/entities', { auth: false, headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(403)
  })

  it('pre-registers the main device and its own service with health up', async () => {
    const entities =
      await t.json<Array<{ id: string; health: { status: string } | null }>>('/api/v1/entities')
    expect(entities.map((e) => e.id)).toEqual(
      expect.arrayContaining(['device/main//', 'device/main/service/edgetwin']),
    )
    expect(entities.find((e) => e.id === 'device/main/service/edgetwin')?.health?.status).toBe('up')
  })

  it('says in its status that the line is real equipment when the simulator is off', async () => {
    expect(await t.json<{ simulation: boolean }>('/api/v1/status')).toMatchObject({ simulation: false })
  })
})

describe('data dir', () => {
  it('refuses a second core on a data dir in use, and takes it once the first has stopped', async () => {
    const first = await startCore()
    await expect(startCore({ dataDir: first.dataDir })).rejects.toThrow(
      /is in use by another EdgeTwin \(pid \d+\)/,
    )
    await first.core.stop()
    const second = await startCore({ dataDir: first.dataDir })
    await second.stop()
    await first.stop()
  })
})
