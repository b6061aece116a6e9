import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DesiredPropertyView, DesiredView } from '../../../src-main/core/api/types'
import { createSimulator, type Simulator } from '../../../src-main/core/sim'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { Requester } from './requester'

/** Small ticks so the line reaches a new speed within a second. */
const TICK_MS = 20
const FILLER = 'device/filler//'
const COMMAND = /^te\/device\/filler\/\/\/cmd\/desired_update\/[^/]+$/

type Messages = Awaited<ReturnType<typeof collect>>

let core: TestCore
let sim: Simulator | undefined
/** Everything on the local bus, in arrival order. */
let bus: Messages

function desiredPath(entity: string): string {
  return `/api/v1/entities/${encodeURIComponent(entity)}/desired`
}

async function startSim(faultRate: number): Promise<void> {
  sim = createSimulator({ url: core.ready.mqtt, seed: 1, tickMs: TICK_MS, faultRate })
  await sim.start()
  await vi.waitFor(async () =>
    expect((await core.json<DesiredView>(desiredPath(FILLER))).supported).toBe(true),
  )
}

async function patch(properties: Record<string, unknown>): Promise<DesiredView> {
  const response = await core.http(desiredPath(FILLER), {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ properties }),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as DesiredView
}

/** The filler's desired properties once every one of them is acknowledged at its current version. */
async function acknowledged(): Promise<Record<string, DesiredPropertyView>> {
  let view: DesiredView | undefined
  await vi.waitFor(
    async () => {
      view = await core.json<DesiredView>(desiredPath(FILLER))
      for (const p of view.properties) expect(p.ack?.av, p.name).toBeGreaterThanOrEqual(p.version)
      expect(view.command).toBeNull()
    },
    { timeout: 10_000, interval: 20 },
  )
  return Object.fromEntries((view as DesiredView).properties.map((p) => [p.name, p]))
}

function payloads(messages: Messages, topic: string): Array<Record<string, unknown>> {
  return messages.messages
    .filter((m) => m.topic === topic && m.payload !== '')
    .map((m) => JSON.parse(m.payload) as Record<string, unknown>)
}

beforeEach(async () => {
  core = await startCore()
  bus = await collect(await core.client(), 'te/#')
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
  await core.stop()
})

describe('desired properties on the simulated line', () => {
  it('applies an accepted property, refuses the others per property, and the line follows', async () => {
    await startSim(0)
    // The devices whose settings drive the line declare desired_update; the others do not.
    await vi.waitFor(async () => {
      expect((await core.json<DesiredView>(desiredPath('device/capper//'))).supported).toBe(true)
    })
    expect((await core.json<DesiredView>(desiredPath('device/tank//'))).supported).toBe(false)
    expect((await core.json<DesiredView>(desiredPath('device/conveyor-drive//'))).supported).toBe(false)

    const { version } = await patch({ nominal_speed_bpm: 150, fill_volume_ml: 5000, label_colour: 'red' })
    const properties = await acknowledged()
    expect(properties.nominal_speed_bpm).toMatchObject({
      version,
      state: 'applied',
      ack: { ac: 200, av: version, value: 150, ad: 'applied' },
    })
    expect(properties.fill_volume_ml).toMatchObject({
      version,
      state: 'refused',
      // The value the device kept.
      ack: { ac: 400, av: version, value: 500, ad: 'fill_volume_ml = 5000 is out of range (100..2000 mL)' },
    })
    expect(properties.label_colour).toMatchObject({
      state: 'refused',
      ack: {
        ac: 400,
        av: version,
        value: null,
        ad: 'unknown property "label_colour" (Filler PLC takes nominal_speed_bpm, fill_volume_ml)',
      },
    })

    // On the local bus: init, executing, then failed naming what was refused, with every result.
    // The bus delivers to this client and to the core independently: wait for the last state here.
    const { topic } = await bus.next((m) => COMMAND.test(m.topic) && m.payload.includes('"failed"'))
    const states = payloads(bus, topic)
    expect(states.map((s) => s.status)).toEqual(['init', 'executing', 'failed'])
    expect(states[2]).toEqual({
      status: 'failed',
      version,
      properties: { nominal_speed_bpm: 150, fill_volume_ml: 5000, label_colour: 'red' },
      reason:
        'Refused desired properties: fill_volume_ml = 5000 is out of range (100..2000 mL); ' +
        'unknown property "label_colour" (Filler PLC takes nominal_speed_bpm, fill_volume_ml)',
      results: {
        nominal_speed_bpm: { ac: 200, ad: 'applied', value: 150 },
        fill_volume_ml: { ac: 400, ad: 'fill_volume_ml = 5000 is out of range (100..2000 mL)', value: 500 },
        label_colour: { ac: 400, ad: expect.stringContaining('unknown property'), value: null },
      },
    })
    // EdgeTwin requested it, so EdgeTwin clears it.
    await bus.next((m) => m.topic === topic && m.payload === '')

    // The filler now runs up to 150 bottles/min (it could not exceed 120 before), still filling 500 mL:
    // each of the 6 valves carries about 150 × 0.5 L / 6 = 12.5 L/min, not the 125 L/min of 5000 mL.
    await vi.waitFor(async () =>
      expect(await core.json('/te/v1/entities/device/filler///twin/nominal_speed_bpm')).toBe(150),
    )
    const fast = await bus.next(
      (m) => m.topic === 'te/device/filler///m/filling' && JSON.parse(m.payload).speed > 125,
      10_000,
    )
    const from = bus.messages.indexOf(fast)
    const valves = await bus.next(
      (m) => bus.messages.indexOf(m) > from && m.topic === 'te/device/valve-bank///m/valves',
    )
    for (const flow of Object.values(JSON.parse(valves.payload).valves as Record<string, number>)) {
      expect(flow).toBeLessThan(16)
    }
  })

  it('removing a property puts its factory value back', async () => {
    await startSim(0)
    await patch({ nominal_speed_bpm: 150, label_colour: 'red' })
    const set = await acknowledged()
    expect(set.nominal_speed_bpm).toMatchObject({ state: 'applied' })
    expect(set.label_colour).toMatchObject({ state: 'refused' })
    await vi.waitFor(async () =>
      expect(await core.json('/te/v1/entities/device/filler///twin/nominal_speed_bpm')).toBe(150),
    )

    // Removing the refused one too: the device has nothing to remove, which is not a refusal.
    const { version } = await patch({ nominal_speed_bpm: null, label_colour: null })
    const removed = await acknowledged()
    expect(removed.nominal_speed_bpm).toMatchObject({
      deleted: true,
      version,
      state: 'applied',
      ack: { ac: 200, av: version, value: 120, ad: 'removed: factory value restored' },
    })
    expect(removed.label_colour).toMatchObject({
      deleted: true,
      state: 'applied',
      ack: { ac: 200, av: version, value: null, ad: 'not a property of this device: nothing to remove' },
    })
    const last = bus.messages.filter((m) => COMMAND.test(m.topic)).at(-1)?.topic as string
    await bus.next((m) => m.topic === last && m.payload.includes('"successful"'))
    // The device reported 120 when it started too: the report that counts comes after the 150.
    const speedTwin = 'te/device/filler///twin/nominal_speed_bpm'
    const raised = bus.messages.findIndex((m) => m.topic === speedTwin && m.payload === '150')
    const twin = await bus.next(
      (m) => m.topic === speedTwin && m.payload === '120' && bus.messages.indexOf(m) > raised,
    )
    // Once its twin says 120 the line runs at most 120 bottles/min, and stays there. The twin and the
    // measurements come from two clients, so a few measurements of the ticks before may arrive after
    // it (and, while the line ramps up from a stop, some of those may be below 120): allow the first
    // ten, then none above 120.
    const from = bus.messages.indexOf(twin)
    const speeds = () =>
      bus.messages
        .filter((m, i) => i > from && m.topic === 'te/device/filler///m/filling')
        .map((m) => JSON.parse(m.payload).speed as number)
    await vi.waitFor(() => expect(speeds().length).toBeGreaterThanOrEqual(30), { timeout: 10_000 })
    expect(
      speeds()
        .slice(10)
        .filter((speed) => speed > 120),
    ).toEqual([])
  })

  it('with simulated faults the device fails the write and answers 500 for each property', async () => {
    await startSim(1)
    const { version } = await patch({ fill_volume_ml: 750 })
    const { fill_volume_ml: property } = await acknowledged()
    expect(property).toMatchObject({
      state: 'refused',
      ack: { ac: 500, av: version, value: 500 },
    })
    expect(property?.ack?.ad).toMatch(/EEPROM busy|local mode/)
    const { topic } = await bus.next((m) => COMMAND.test(m.topic) && m.payload.includes('"failed"'))
    expect(payloads(bus, topic).at(-1)).toMatchObject({
      status: 'failed',
      reason: property?.ack?.ad,
      results: { fill_volume_ml: { ac: 500, value: 500 } },
    })
  })

  it('shows a value the device changed outside EdgeTwin as drifted, and applies it again on request', async () => {
    await startSim(0)
    // The device says what it takes, and reports each such parameter in effect under the same name.
    const first = await core.json<DesiredView>(desiredPath(FILLER))
    expect(first.accepts?.nominal_speed_bpm).toEqual({
      type: 'integer',
      minimum: 30,
      maximum: 180,
      unit: 'bottles/min',
      default: 120,
    })
    expect(Object.keys(first.accepts ?? {})).toEqual(['nominal_speed_bpm', 'fill_volume_ml'])
    await vi.waitFor(async () =>
      expect(await core.json('/te/v1/entities/device/filler///twin/nominal_speed_bpm')).toBe(120),
    )

    await patch({ nominal_speed_bpm: 150 })
    expect((await acknowledged()).nominal_speed_bpm).toMatchObject({ state: 'applied' })
    // The twin comes from another of the device's clients than its answer: it may arrive just after.
    await vi.waitFor(async () =>
      expect((await core.json<DesiredView>(desiredPath(FILLER))).properties[0]).toMatchObject({
        state: 'applied',
        reported: { value: 150 },
      }),
    )

    // A technician loads the old parameter file with another tool, straight on the device's bus.
    const outside = await Requester.connect(core.ready.mqtt)
    try {
      const url = (path: string) => new URL(`/te/v1/files/${path}`, core.ready.http).href
      const snapshot = await outside.run('filler', 'config_snapshot', 'hmi-1', {
        type: 'filler.conf',
        tedgeUrl: url('filler/config_snapshot/hmi-1'),
      })
      expect(snapshot).toMatchObject({ status: 'successful' })
      const current = await (await fetch(url('filler/config_snapshot/hmi-1'))).text()
      const put = await fetch(url('filler/config_update/hmi-2'), {
        method: 'PUT',
        body: current.replace('nominal_speed_bpm = 150', 'nominal_speed_bpm = 120'),
      })
      expect(put.status).toBe(201)
      const update = await outside.run('filler', 'config_update', 'hmi-2', {
        type: 'filler.conf',
        tedgeUrl: url('filler/config_update/hmi-2'),
      })
      expect(update).toMatchObject({ status: 'successful' })
    } finally {
      await outside.close()
    }
    let drifted: DesiredPropertyView | undefined
    await vi.waitFor(async () => {
      drifted = (await core.json<DesiredView>(desiredPath(FILLER))).properties[0]
      expect(drifted).toMatchObject({
        name: 'nominal_speed_bpm',
        value: 150,
        state: 'drifted',
        reported: { value: 120 },
      })
    })

    // Applying it again sends the same value under a new version; the device takes it back.
    const unknown = await core.http(`${desiredPath(FILLER)}/reapply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ names: ['label_colour'] }),
    })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: 'no desired property "label_colour" to apply again' })
    const response = await core.http(`${desiredPath(FILLER)}/reapply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ names: ['nominal_speed_bpm'] }),
    })
    expect(response.status).toBe(200)
    const { version } = (await response.json()) as DesiredView
    const back = await acknowledged()
    expect(back.nominal_speed_bpm).toMatchObject({
      value: 150,
      version,
      state: 'applied',
      ack: { ac: 200, av: version, value: 150 },
    })
    await vi.waitFor(async () =>
      expect(await core.json('/te/v1/entities/device/filler///twin/nominal_speed_bpm')).toBe(150),
    )
    const audit = await core.json<Array<{ action: string; after: unknown }>>('/api/v1/audit?limit=5')
    expect(audit.find((entry) => entry.action === 'desired.reapply')?.after).toEqual({
      nominal_speed_bpm: 150,
    })
  })
})
