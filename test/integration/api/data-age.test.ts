import { rmSync } from 'node:fs'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EntityDetail, EntitySummary, HealthView, SeriesView } from '../../../src-main/core/api/types'
import { startCore, type TestCore, tempDir } from '../../helpers/core'

const retained = { retain: true, qos: 1 } as const

describe('health from what an entity does as well as what it says', () => {
  let t: TestCore
  let c: MqttClient
  const health = async (id: string): Promise<HealthView | null> =>
    (await t.json<EntitySummary[]>('/api/v1/entities')).find((e) => e.id === id)?.health ?? null
  const measure = (entity: string, values: object) =>
    c.publishAsync(`te/${entity}/m/env`, JSON.stringify(values), { qos: 1 })

  beforeAll(async () => {
    t = await startCore()
    c = await t.client()
  })
  afterAll(() => t.stop())

  it("a device's agent Last Will down is superseded when the device's data keeps arriving", async () => {
    await c.publishAsync('te/device/press//', JSON.stringify({ '@type': 'child-device' }), retained)
    const healthTopic = 'te/device/press/service/tedge-agent/status/health'
    const agent = await t.client({
      clientId: 'press-agent',
      will: { topic: healthTopic, payload: Buffer.from('{"status":"down"}'), qos: 1, retain: true },
    })
    await agent.publishAsync(healthTopic, JSON.stringify({ status: 'up' }), retained)
    await vi.waitFor(async () => expect(await health('device/press//')).toMatchObject({ status: 'up' }))

    // The agent's process goes: the broker publishes its Last Will.
    agent.stream.destroy()
    await vi.waitFor(async () =>
      expect(await health('device/press//')).toMatchObject({
        status: 'down',
        reported: 'down',
        source: 'endpoint',
        reason: 'reported down',
      }),
    )
    // Another process keeps sending the device's values: the device communicates.
    await vi.waitFor(
      async () => {
        await measure('device/press//', { pressure: 4.2 })
        expect(await health('device/press//')).toMatchObject({
          status: 'up',
          reported: 'down',
          reason: 'reported down, but it has sent data since',
        })
      },
      { timeout: 10_000, interval: 300 },
    )
    // The agent service itself said nothing since: it stays down.
    expect(await health('device/press/service/tedge-agent')).toMatchObject({ status: 'down' })
  })

  it("a service's retained down is superseded when the service publishes again", async () => {
    const service = 'device/main/service/collector'
    await c.publishAsync(`te/${service}/status/health`, JSON.stringify({ pid: 7, status: 'down' }), retained)
    await vi.waitFor(async () => expect(await health(service)).toMatchObject({ status: 'down' }))
    await vi.waitFor(
      async () => {
        await c.publishAsync(`te/${service}/e/flushed`, JSON.stringify({ text: 'buffer flushed' }), {
          qos: 1,
        })
        expect(await health(service)).toMatchObject({ status: 'up', reported: 'down' })
      },
      { timeout: 10_000, interval: 300 },
    )
  })

  it('a down followed by nothing stays down', async () => {
    const service = 'device/main/service/crashed'
    await c.publishAsync(`te/${service}/status/health`, JSON.stringify({ status: 'down' }), retained)
    await vi.waitFor(async () => expect(await health(service)).toMatchObject({ status: 'down' }))
    await measure('device/main//', { unrelated: 1 })
    expect(await health(service)).toMatchObject({ status: 'down', reason: 'reported down' })
  })

  it('learns the expected period of a series from its intervals, and says when its value is stale', async () => {
    await c.publishAsync('te/device/meter//', JSON.stringify({ '@type': 'child-device' }), retained)
    const now = Date.now()
    // Every 5 s, the last one 40 s ago: 3 × 5 s = 15 s at most, so stale; every 1 s up to now: fresh.
    for (let i = 8; i >= 0; i--) {
      await measure('device/meter//', { time: new Date(now - 40_000 - i * 5000).toISOString(), slow: i })
      await measure('device/meter//', { time: new Date(now - i * 1000).toISOString(), fast: i })
    }
    await vi.waitFor(async () => {
      const detail = await t.json<EntityDetail>(`/api/v1/entities/${encodeURIComponent('device/meter//')}`)
      const byName = Object.fromEntries(detail.series.map((s) => [s.name, s])) as Record<string, SeriesView>
      expect(byName.slow).toMatchObject({
        expectedPeriod: 5000,
        periodSource: 'learned',
        staleAfter: 15_000,
        stale: true,
      })
      // The floor: a fast series is not stale after three missed values.
      expect(byName.fast).toMatchObject({ expectedPeriod: 1000, staleAfter: 10_000, stale: false })
    })
    // One fresh series is enough: the device communicates.
    expect(await health('device/meter//')).toMatchObject({ status: 'up', source: 'data' })
  })

  it('a device that was sending and went silent is communication lost, not up', async () => {
    await c.publishAsync('te/device/mixer//', JSON.stringify({ '@type': 'child-device' }), retained)
    await c.publishAsync(
      'te/device/mixer/service/tedge-agent/status/health',
      JSON.stringify({ status: 'up' }),
      retained,
    )
    const now = Date.now()
    for (let i = 5; i >= 0; i--) {
      await measure('device/mixer//', { time: new Date(now - 60_000 - i * 2000).toISOString(), speed: 40 })
    }
    await vi.waitFor(async () =>
      expect(await health('device/mixer//')).toMatchObject({
        status: 'stale',
        reported: 'up',
        reason: 'reported up, but communication lost: no new values (expected every 2 s)',
      }),
    )
    // Values again: up.
    for (let i = 3; i >= 0; i--) {
      await measure('device/mixer//', { time: new Date(Date.now() - i * 2000).toISOString(), speed: 41 })
    }
    await vi.waitFor(async () => expect(await health('device/mixer//')).toMatchObject({ status: 'up' }))
  })

  it('goes stale in real time once values stop for longer than expected', async () => {
    await c.publishAsync('te/device/pump//', JSON.stringify({ '@type': 'child-device' }), retained)
    for (let i = 0; i < 5; i++) {
      await measure('device/pump//', { flow: i })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await vi.waitFor(async () => expect(await health('device/pump//')).toMatchObject({ status: 'up' }))
    const silentSince = Date.now()
    // 100 ms × 3 is under the 10 s floor: stale after the floor, not before.
    await vi.waitFor(
      async () => expect(await health('device/pump//')).toMatchObject({ status: 'stale', source: 'data' }),
      { timeout: 20_000, interval: 500 },
    )
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(9_000)
  }, 30_000)
})

describe('the learned period after a restart', () => {
  it('is recomputed from the stored samples', async () => {
    const dataDir = tempDir()
    let t = await startCore({ dataDir })
    const c = await t.client()
    await c.publishAsync('te/device/scale//', JSON.stringify({ '@type': 'child-device' }), retained)
    const now = Date.now()
    for (let i = 6; i >= 0; i--) {
      await c.publishAsync(
        'te/device/scale///m/w',
        JSON.stringify({ time: new Date(now - i * 3000).toISOString(), kg: i }),
        { qos: 1 },
      )
    }
    const period = async () =>
      (await t.json<EntityDetail>(`/api/v1/entities/${encodeURIComponent('device/scale//')}`)).series[0]
        ?.expectedPeriod
    await vi.waitFor(async () => expect(await period()).toBe(3000))
    await t.stop()
    t = await startCore({ dataDir })
    try {
      expect(await period()).toBe(3000)
    } finally {
      await t.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
