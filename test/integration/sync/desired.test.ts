import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DesiredView, OperationView } from '../../../src-main/core/api/types'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { registerChildren, send } from './harness'

// Desired properties on the local bus alone (no cloud): a connector applies them through
// `desired_update` as thin-edge.io connectors apply any command.

const PUMP = 'device/pump//'
const DESIRED = `/api/v1/entities/${encodeURIComponent(PUMP)}/desired`
const COMMAND = /^te\/device\/pump\/\/\/cmd\/desired_update\/([^/]+)$/

describe('desired properties applied by a connector', () => {
  let core: TestCore | undefined

  afterEach(async () => {
    await core?.stop()
    core = undefined
  })

  async function setUp(options: { capable: boolean }) {
    core = await startCore()
    const device = await core.client()
    await registerChildren(device, [PUMP])
    const bus = await collect(device, 'te/device/pump///cmd/desired_update/+')
    if (options.capable)
      await device.publishAsync('te/device/pump///cmd/desired_update', '{}', { qos: 1, retain: true })
    return { api: core, device, bus }
  }

  it('waits for the capability, sends one command, and turns its results into acknowledgements', async () => {
    const { api, device, bus } = await setUp({ capable: false })
    const first = await send(api, 'PATCH', DESIRED, { properties: { flow: 12.5, mode: 'eco' } })
    expect(first.status).toBe(200)
    const view = (await first.json()) as DesiredView
    expect(view).toMatchObject({ version: 1, supported: false, command: null })
    expect(view.properties.map((p) => p.state)).toEqual(['pending', 'pending'])

    // The connector starts and declares the operation: the pending properties go out in one command.
    await device.publishAsync('te/device/pump///cmd/desired_update', '{}', { qos: 1, retain: true })
    const request = await bus.next((m) => COMMAND.test(m.topic) && m.payload.includes('"init"'))
    expect(JSON.parse(request.payload)).toEqual({
      status: 'init',
      version: 1,
      properties: { flow: 12.5, mode: 'eco' },
    })
    await vi.waitFor(async () =>
      expect((await api.json<DesiredView>(DESIRED)).properties.map((p) => p.state)).toEqual([
        'in-progress',
        'in-progress',
      ]),
    )

    // The connector applies flow, refuses mode, and says so per property.
    const done = {
      ...JSON.parse(request.payload),
      status: 'failed',
      reason: 'mode "eco" is not supported',
      results: {
        flow: { ac: 200, value: 12.5 },
        mode: { ac: 400, ad: 'mode "eco" is not supported', value: 'normal' },
      },
    }
    await device.publishAsync(request.topic, JSON.stringify({ ...done, status: 'executing' }), {
      qos: 1,
      retain: true,
    })
    await device.publishAsync(request.topic, JSON.stringify(done), { qos: 1, retain: true })
    const settled = await vi.waitFor(
      async () => {
        const current = await api.json<DesiredView>(DESIRED)
        expect(current.command).toBeNull()
        return current
      },
      { timeout: 5000 },
    )
    const [flow, mode] = settled.properties
    expect(flow).toMatchObject({ state: 'applied', ack: { ac: 200, av: 1, value: 12.5, ad: 'applied' } })
    expect(mode).toMatchObject({
      state: 'refused',
      ack: { ac: 400, av: 1, value: 'normal', ad: 'mode "eco" is not supported' },
    })
    // EdgeTwin requested the command, so it clears it; nothing more is sent while nothing changed.
    await bus.next((m) => m.topic === request.topic && m.payload === '')
    expect(bus.messages.filter((m) => COMMAND.test(m.topic) && m.payload.includes('"init"'))).toHaveLength(1)
  })

  it('sends changes made meanwhile in the next command, and sends again a command that was withdrawn', async () => {
    const { api, bus } = await setUp({ capable: true })
    await send(api, 'PATCH', DESIRED, { properties: { flow: 10 } })
    const first = await bus.next((m) => COMMAND.test(m.topic) && m.payload.includes('"init"'))
    await send(api, 'PATCH', DESIRED, { properties: { flow: 11, speed: 3 } })
    // One command at a time: the second change waits for the first to end.
    expect(bus.messages.filter((m) => COMMAND.test(m.topic) && m.payload.includes('"init"'))).toHaveLength(1)

    // The operator withdraws the command nobody has taken yet; the properties are sent again, current.
    const operations = await api.json<OperationView[]>('/api/v1/operations?operation=desired_update')
    const withdrawn = await api.http(`/api/v1/operations/${operations[0]?.id}/cancel`, { method: 'POST' })
    expect(withdrawn.status).toBe(200)
    await bus.next((m) => m.topic === first.topic && m.payload === '')
    const second = await bus.next(
      (m) => COMMAND.test(m.topic) && m.topic !== first.topic && m.payload.includes('"init"'),
    )
    const { version } = await api.json<DesiredView>(DESIRED)
    expect(JSON.parse(second.payload)).toEqual({
      status: 'init',
      version,
      properties: { flow: 11, speed: 3 },
    })
  })
})
