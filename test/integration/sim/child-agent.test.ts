import { once } from 'node:events'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { Aedes, type Client } from 'aedes'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSimulator, type Simulator, type SimulatorOptions } from '../../../src-main/core/sim'
import { startCore, type TestCore } from '../../helpers/core'
import { Requester } from './requester'

/** Small ticks so a restart (about 5 ticks) takes a tenth of a second. */
const TICK_MS = 20

const AGENTS = ['filler', 'conveyor-drive', 'vision', 'capper', 'tank']
const health = (device: string) => `te/device/${device}/service/tedge-agent/status/health`

let sim: Simulator | undefined
let requester: Requester | undefined

async function startSim(url: string, options: Partial<SimulatorOptions> = {}): Promise<Requester> {
  requester = await Requester.connect(url)
  sim = createSimulator({ url, seed: 1, tickMs: TICK_MS, ...options })
  await sim.start()
  const r = requester
  await vi.waitFor(() => {
    for (const device of AGENTS) expect(r.on(health(device)).at(-1)?.payload).toContain('"up"')
  })
  return r
}

async function stopSim(): Promise<void> {
  await sim?.stop()
  sim = undefined
  await requester?.close()
  requester = undefined
}

describe('simulated child agents, against a real core', () => {
  let core: TestCore

  beforeEach(async () => {
    core = await startCore()
  })

  afterEach(async () => {
    await stopSim()
    await core.stop()
  })

  it('registers a tedge-agent per operable child device, with health, Last Will and retained capabilities', async () => {
    const r = await startSim(core.ready.mqtt)
    const expected: Record<string, Record<string, unknown>> = {
      filler: {
        restart: {},
        firmware_update: {},
        config_snapshot: { types: ['filler.conf', 'plc-network.conf'] },
        config_update: { types: ['filler.conf', 'plc-network.conf'] },
        log_upload: { types: ['filler', 'plc'] },
        software_list: { types: ['codesys'] },
        software_update: { types: ['codesys'] },
      },
      'conveyor-drive': {
        restart: {},
        firmware_update: {},
        config_update: { types: ['drive.conf'] },
        log_upload: { types: ['drive', 'condition-monitoring'] },
      },
      vision: {
        software_update: { types: ['docker', 'apt'] },
        config_snapshot: { types: ['inspection.conf'] },
      },
      tank: { restart: {}, log_upload: { types: ['level-controller'] } },
    }
    await vi.waitFor(() => {
      for (const [device, capabilities] of Object.entries(expected)) {
        for (const [operation, payload] of Object.entries(capabilities)) {
          const topic = `te/device/${device}///cmd/${operation}`
          expect(r.json(topic).at(-1), topic).toEqual(payload)
        }
      }
    })
    expect(r.json('te/device/filler/service/tedge-agent').at(-1)).toEqual({
      '@type': 'service',
      '@parent': 'device/filler//',
      name: 'tedge-agent',
      type: 'service',
    })
    expect(r.json(health('filler')).at(-1)).toMatchObject({ status: 'up', pid: expect.any(Number) })
    expect(r.json('te/device/filler///twin/agent').at(-1)).toMatchObject({ name: 'thin-edge.io' })
    // Devices without an agent announce nothing to operate.
    expect(r.messages.filter((m) => m.topic.startsWith('te/device/valve-bank///cmd/'))).toEqual([])
    expect(r.on('te/device/tank///cmd/software_update')).toEqual([])
    // The core has the agent as a service of the child device.
    await vi.waitFor(async () => {
      const entity = await core.json<Record<string, unknown>>(
        '/te/v1/entities/device/filler/service/tedge-agent',
      )
      expect(entity).toMatchObject({ '@parent': 'device/filler//', '@type': 'service' })
    })
  })

  it('restarts a child: executing, health and data go down, come back, then successful', async () => {
    const r = await startSim(core.ready.mqtt)
    const from = r.messages.length
    const topic = await r.request('filler', 'restart', 'r1')
    const result = await r.outcome(topic)
    expect(result).toEqual({ status: 'successful' })
    expect(r.statuses(topic)).toEqual(['init', 'executing', 'successful'])

    const index = (topicName: string, status: string, after = from) =>
      r.indexOf((m) => m.topic === topicName && m.payload.includes(`"status":"${status}"`), after)
    const executing = index(topic, 'executing')
    const down = index(health('filler'), 'down')
    const up = index(health('filler'), 'up', down)
    const successful = index(topic, 'successful')
    expect(executing).toBeGreaterThan(0)
    expect(down).toBeGreaterThan(executing)
    expect(up).toBeGreaterThan(down)
    expect(successful).toBeGreaterThan(up)
    // The device's services go down with it.
    expect(index('te/device/filler/service/plc-runtime/status/health', 'down')).toBeGreaterThan(executing)

    // While it is down (5 ticks) the filler and its valve bank publish nothing; other devices carry on.
    // The line and the agent are separate clients, so the gap is judged by the tank's ticks, not by order.
    await r.next((m) => m.topic === 'te/device/filler///m/filling', 5000, up)
    for (const device of ['filler', 'valve-bank']) {
      const data = (m: { topic: string }) => m.topic.startsWith(`te/device/${device}///m/`)
      const lastBefore = r.messages.findLastIndex((m, i) => i < up && data(m))
      await vi.waitFor(() => expect(r.indexOf(data, up)).toBeGreaterThan(0))
      const gap = r.messages.slice(lastBefore, r.indexOf(data, up))
      expect(gap.filter((m) => m.topic === 'te/device/tank///m/tank').length).toBeGreaterThanOrEqual(4)
    }
  })

  it('keeps unknown fields in every state, ignores echoes, second inits and operations it does not own', async () => {
    const r = await startSim(core.ready.mqtt)
    const extra = {
      '@version': 'builtin',
      logPath: '/var/log/tedge/agent/workflow-restart-r2.log',
      note: { by: 'test' },
    }
    const topic = await r.request('capper', 'restart', 'r2', extra)
    await r.next((m) => m.topic === topic && m.payload.includes('"executing"'))
    // A second init while it runs is ignored, as is a custom operation the capper has no capability for.
    await r.request('capper', 'restart', 'r2', extra)
    const custom = await r.request('capper', 'calibrate_torque', 'c1', { target: 2.4 })
    const notOwned = await r.request('capper', 'software_update', 's1', { updateList: [] })
    const result = await r.outcome(topic)
    expect(result).toEqual({ ...extra, status: 'successful' })
    for (const state of r.states(topic)) expect(state).toMatchObject(extra)
    expect(r.statuses(topic)).toEqual(['init', 'executing', 'init', 'successful'])

    // A requester finishing its own state is not a request either.
    const finished = 'te/device/capper///cmd/restart/r3'
    await r.publish(finished, JSON.stringify({ status: 'successful' }))
    await r.run('tank', 'restart', 'r4')
    expect(r.statuses(custom)).toEqual(['init'])
    expect(r.statuses(notOwned)).toEqual(['init'])
    expect(r.statuses(finished)).toEqual(['successful'])
    for (const t of [topic, custom, notOwned, finished]) await r.clear(t)
  })

  it('fails operations at realistic steps with faultRate 1, and the device comes back', async () => {
    const r = await startSim(core.ready.mqtt, { faultRate: 1 })
    const restart = await r.run('filler', 'restart', 'f1')
    expect(restart).toMatchObject({ status: 'failed', reason: expect.stringMatching(/restart/) })
    const list = await r.run('filler', 'software_list', 'f2')
    expect(list).toEqual({ status: 'failed', reason: expect.stringContaining('Permission denied') })
    expect(list).not.toHaveProperty('currentSoftwareList')
    const snapshot = await r.run('vision', 'config_snapshot', 'f3', {
      type: 'inspection.conf',
      tedgeUrl: new URL('/te/v1/files/vision/config_snapshot/f3', core.ready.http).href,
    })
    expect(snapshot).toMatchObject({ status: 'failed', reason: expect.any(String) })
    const stored = await fetch(new URL('/te/v1/files/vision/config_snapshot/f3', core.ready.http))
    expect(stored.status).toBe(404)
    await vi.waitFor(() => expect(r.json(health('filler')).at(-1)).toMatchObject({ status: 'up' }))
  })

  it('draws the same faults for the same seed', async () => {
    const reasons = async (): Promise<unknown[]> => {
      const r = await startSim(core.ready.mqtt, { faultRate: 0.5, seed: 7 })
      const out: unknown[] = []
      for (let i = 0; i < 6; i++) out.push((await r.run('tank', 'restart', `d${i}`)).reason ?? 'ok')
      await stopSim()
      return out
    }
    const first = await reasons()
    expect(first).toContain('ok')
    expect(first.some((reason) => reason !== 'ok')).toBe(true)
    expect(await reasons()).toEqual(first)
  })
})

describe('simulated child agents across reconnects', () => {
  let broker: Aedes
  let server: Server
  let url: string
  const clients = new Map<string, Client>()

  beforeEach(async () => {
    broker = await Aedes.createBroker()
    broker.on('client', (client) => clients.set(client.id, client))
    server = createServer(broker.handle)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterEach(async () => {
    await stopSim()
    clients.clear()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('does not re-run a finished command after a reconnect, and forgets a cleared one', async () => {
    const r = await startSim(url)
    const done = await r.request('vision', 'software_list', 'l1')
    expect(await r.outcome(done)).toMatchObject({ status: 'successful' })
    const cleared = await r.request('vision', 'software_list', 'l2')
    await r.outcome(cleared)
    await r.clear(cleared)

    const agent = [...clients.values()].find((c) => c.id.endsWith('-vision-tedge-agent'))
    const from = r.messages.length
    agent?.conn.destroy()
    await r.next((m) => m.topic === health('vision') && m.payload.includes('"down"'), 5000, from)
    await r.next((m) => m.topic === health('vision') && m.payload.includes('"up"'), 5000, from)
    await r.next((m) => m.topic === 'te/device/vision///cmd/software_update', 5000, from)

    // A request after the reconnect is answered, so the agent has seen the retained ones by then.
    await r.run('vision', 'restart', 'l3')
    expect(r.statuses(done)).toEqual(['init', 'executing', 'successful'])
    expect(r.json(cleared).slice(-1)).toEqual([''])
    expect(r.statuses(cleared)).toEqual(['init', 'executing', 'successful'])

    // Once cleared, the same command id may be used again.
    const again = r.messages.length
    const reused = await r.request('vision', 'software_list', 'l2')
    expect(await r.outcome(reused, again)).toMatchObject({ status: 'successful' })
    await r.clear(done)
    await r.clear(reused)
  })

  it('fails a command a previous run left half done instead of leaving it hanging', async () => {
    const seed = await Requester.connect(url)
    const stale = 'te/device/filler///cmd/restart/old'
    const staleConfig = 'te/device/capper///cmd/config_update/old'
    await seed.publish(stale, JSON.stringify({ status: 'executing' }))
    await seed.publish(staleConfig, JSON.stringify({ status: 'download', type: 'capper.conf' }))
    await seed.close()

    const r = await startSim(url)
    expect(await r.outcome(stale)).toEqual({
      status: 'failed',
      reason: 'The agent has been restarted but not the device',
    })
    expect(await r.outcome(staleConfig)).toMatchObject({
      status: 'failed',
      type: 'capper.conf',
      reason: expect.stringContaining('"download"'),
    })
    await r.clear(stale)
    await r.clear(staleConfig)
  })
})
