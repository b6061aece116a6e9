import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EntitySummary } from '../../../src-main/core/api/types'
import { startCore, type TestCore } from '../../helpers/core'

describe('the health shown for a device', () => {
  let t: TestCore
  const health = async (id: string) =>
    (await t.json<EntitySummary[]>('/api/v1/entities')).find((e) => e.id === id)?.health ?? null

  beforeAll(async () => {
    t = await startCore()
    const c = await t.client()
    const pub = (topic: string, payload: object, retain = true) =>
      c.publishAsync(topic, JSON.stringify(payload), { retain, qos: 1 })
    // An agent as @health endpoint (thin-edge.io's default) wins over everything else.
    await pub('te/device/agent-box//', { '@type': 'child-device' })
    await pub('te/device/agent-box/service/tedge-agent', { '@type': 'service' })
    await pub('te/device/agent-box/service/tedge-agent/status/health', { status: 'down' })
    await pub('te/device/agent-box/service/app/status/health', { status: 'up' })
    // No endpoint: the worst of its services.
    await pub('te/device/plc//', { '@type': 'child-device' })
    await pub('te/device/plc/service/runtime/status/health', { status: 'up' })
    await pub('te/device/plc/service/logger/status/health', { status: 'down' })
    // No health at all, but data.
    await pub('te/device/sensor//', { '@type': 'child-device' })
    await pub('te/device/sensor///m/env', { temperature: 21 }, false)
    // Registered, never heard from.
    await pub('te/device/silent//', { '@type': 'child-device' })
  })
  afterAll(() => t.stop())

  it('comes from its @health endpoint, default the tedge-agent service', async () => {
    await vi.waitFor(async () =>
      expect(await health('device/agent-box//')).toMatchObject({ status: 'down', source: 'endpoint' }),
    )
  })

  it('else is the worst of its services', async () => {
    await vi.waitFor(async () =>
      expect(await health('device/plc//')).toMatchObject({ status: 'down', source: 'services' }),
    )
  })

  it('else is up while the device sends data', async () => {
    await vi.waitFor(async () =>
      expect(await health('device/sensor//')).toMatchObject({ status: 'up', source: 'data' }),
    )
  })

  it('else is unknown', async () => {
    await vi.waitFor(async () =>
      expect((await t.json<EntitySummary[]>('/api/v1/entities')).map((e) => e.id)).toContain(
        'device/silent//',
      ),
    )
    expect(await health('device/silent//')).toBeNull()
  })
})
