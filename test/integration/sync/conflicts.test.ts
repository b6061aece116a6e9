import mqtt from 'mqtt'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConflictView, DesiredView } from '../../../src-main/core/api/types'
import { formatHlc } from '../../../src-main/core/sync/hlc'
import { downTopic } from '../../../src-main/core/sync/protocol'
import { CliProcesses } from '../../helpers/cli'
import { type CloudTail, startCloudTail, type TailItem } from '../../helpers/cloud-tail'
import { startCore, type TestCore } from '../../helpers/core'
import { type Mosquitto, startMosquitto } from '../../helpers/mosquitto'
import { startProxy, type TcpProxy } from '../../helpers/tcp-proxy'
import { configureSync, registerChildren, send, waitForStatus } from './harness'

const SITE = 'line-3'
const PRESS = 'device/press//'
const DESIRED = `/api/v1/entities/${encodeURIComponent(PRESS)}/desired`

/** The desired document the cloud saw last for an entity: what a cloud consumer converges on. */
function cloudDocument(items: TailItem[], entity: string): Record<string, { value?: unknown }> | undefined {
  const last = items.filter((i) => i.kind === 'desired' && i.entity === entity).at(-1)
  return last?.properties as Record<string, { value?: unknown }> | undefined
}

const values = (doc: Record<string, { value?: unknown }> | undefined) =>
  Object.fromEntries(Object.entries(doc ?? {}).map(([name, p]) => [name, p.value]))

describe('desired properties changed on both sides while apart', () => {
  const processes = new CliProcesses()
  let cloud: Mosquitto | undefined
  let proxy: TcpProxy | undefined
  let core: TestCore | undefined
  let cloudClient: mqtt.MqttClient | undefined

  afterEach(async () => {
    await cloudClient?.endAsync(true)
    await core?.stop()
    await processes.cleanup()
    await proxy?.stop()
    await cloud?.dispose()
    core = undefined
  })

  async function desired(): Promise<DesiredView> {
    return (core as TestCore).json<DesiredView>(DESIRED)
  }

  async function setUp(): Promise<CloudTail> {
    cloud = await startMosquitto()
    proxy = await startProxy(cloud.port)
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    core = await startCore()
    await registerChildren(await core.client(), [PRESS])
    // The edge reaches the cloud broker through a proxy that can be unplugged.
    await configureSync(core, { url: proxy.url, siteId: SITE, batchMs: 50, enabled: true })
    await waitForStatus(core, (s) => s.state === 'connected')
    cloudClient = await mqtt.connectAsync(cloud.url, { reconnectPeriod: 0 })
    return tail
  }

  it('converges on each policy’s winner, records every conflict, and lets an operator overrule', async () => {
    const tail = await setUp()
    const api = core as TestCore
    const initial = await send(api, 'PATCH', DESIRED, {
      properties: { pressure: 1, speed: 1, newer: 1, older: 1 },
      policies: {
        pressure: 'cloud-wins',
        speed: 'edge-wins',
        newer: 'last-writer-wins',
        older: 'last-writer-wins',
      },
    })
    expect(initial.status).toBe(200)
    const base = ((await initial.json()) as DesiredView).version
    // The cloud has this version: the base both sides share.
    await vi.waitFor(async () => expect((await desired()).syncedVersion).toBe(base), { timeout: 10_000 })
    await tail.waitFor((items) => values(cloudDocument(items, PRESS)).speed === 1)

    ;(proxy as TcpProxy).cut()
    await waitForStatus(api, (s) => s.state !== 'connected')
    // While apart: the cloud changes all four from the shared base, once with a clock behind the
    // edge's change and once ahead of it; the edge changes all four too.
    const behind = formatHlc(Date.now() - 30_000, 0, 'cloud')
    expect(
      (await send(api, 'PATCH', DESIRED, { properties: { pressure: 2, speed: 2, newer: 2, older: 2 } }))
        .status,
    ).toBe(200)
    const ahead = formatHlc(Date.now() + 30_000, 0, 'cloud')
    const request = (id: string, properties: Record<string, unknown>, hlc: string) =>
      cloudClient?.publishAsync(
        downTopic(SITE, 'desired'),
        JSON.stringify({ id, entity: PRESS, properties, baseVersion: base, hlc, origin: 'cloud:alice' }),
        { qos: 1 },
      )
    await request('req-ahead', { pressure: 3, speed: 3, newer: 3 }, ahead)
    await request('req-behind', { older: 3 }, behind)
    ;(proxy as TcpProxy).restore()

    const conflicts = await vi.waitFor(
      async () => {
        const list = await api.json<ConflictView[]>('/api/v1/sync/conflicts?status=open')
        expect(list).toHaveLength(4)
        return list
      },
      { timeout: 30_000, interval: 200 },
    )
    const winner = Object.fromEntries(conflicts.map((c) => [c.property, c.winner]))
    expect(winner).toEqual({ pressure: 'cloud', speed: 'edge', newer: 'cloud', older: 'edge' })
    for (const conflict of conflicts) {
      expect(conflict.entity).toBe(PRESS)
      expect(conflict.edge).toMatchObject({ value: 2, origin: 'edge:api' })
      expect(conflict.cloud).toMatchObject({ value: 3, origin: 'cloud:alice' })
    }
    const expected = { pressure: 3, speed: 2, newer: 3, older: 2 }
    expect(values(Object.fromEntries((await desired()).properties.map((p) => [p.name, p])))).toEqual(expected)
    // The cloud converges: the edge sent the merged document back, with the conflicts and answers.
    const items = await tail.waitFor((seen) => {
      const doc = values(cloudDocument(seen, PRESS))
      return (
        JSON.stringify(doc) === JSON.stringify(expected) &&
        seen.filter((i) => i.kind === 'conflict').length >= 4
      )
    }, 20_000)
    const responses = items.filter((i) => i.kind === 'response')
    expect(responses.map((r) => [r.request, r.status])).toEqual([
      ['req-ahead', 'accepted'],
      ['req-behind', 'accepted'],
    ])
    expect(responses[0]?.conflicts).toHaveLength(3)

    // An operator overrules the edge-wins decision: the cloud's value becomes a new change.
    const speed = conflicts.find((c) => c.property === 'speed') as ConflictView
    const resolved = await send(api, 'POST', `/api/v1/sync/conflicts/${speed.id}/resolve`, {
      choice: 'cloud',
    })
    expect(resolved.status).toBe(200)
    expect(await resolved.json()).toMatchObject({
      status: 'resolved',
      resolution: { by: 'api', choice: 'cloud' },
    })
    expect((await desired()).properties.find((p) => p.name === 'speed')?.value).toBe(3)
    await tail.waitFor((seen) => values(cloudDocument(seen, PRESS)).speed === 3)
    expect(await api.json<ConflictView[]>('/api/v1/sync/conflicts?status=open')).toHaveLength(3)
    const again = await send(api, 'POST', `/api/v1/sync/conflicts/${speed.id}/resolve`, { choice: 'edge' })
    expect(again.status).toBe(409)
  }, 90_000)

  it('takes a cloud change the edge did not touch, once, however often it is delivered', async () => {
    const tail = await setUp()
    const api = core as TestCore
    const message = JSON.stringify({
      id: 'req-1',
      entity: PRESS,
      properties: { mode: 'auto' },
      origin: 'bob',
    })
    await cloudClient?.publishAsync(downTopic(SITE, 'desired'), message, { qos: 1 })
    await cloudClient?.publishAsync(downTopic(SITE, 'desired'), message, { qos: 1 })
    const items = await tail.waitFor((seen) => seen.filter((i) => i.kind === 'response').length >= 2)
    expect(items.filter((i) => i.kind === 'response').map((r) => r.status)).toEqual(['accepted', 'duplicate'])
    const view = await desired()
    expect(view.version).toBe(1)
    expect(view.properties).toMatchObject([
      { name: 'mode', value: 'auto', origin: 'cloud:bob', state: 'pending' },
    ])
    expect(await api.json<ConflictView[]>('/api/v1/sync/conflicts')).toEqual([])
    const audit = await api.json<Array<{ actor: string; action: string }>>(
      '/api/v1/audit?action=desired.update',
    )
    expect(audit).toMatchObject([{ actor: 'cloud:bob', action: 'desired.update' }])
  }, 60_000)
})
