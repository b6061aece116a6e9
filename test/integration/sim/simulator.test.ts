import { once } from 'node:events'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { Aedes, type Client } from 'aedes'
import { connectAsync, type MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSimulator, type Simulator } from '../../../src-main/core/sim'
import { parseTopic } from '../../../src-main/core/topics'

interface Received {
  topic: string
  payload: string
  retain: boolean
}

/** A real mqtt.js client recording everything under `te/#`. */
class Recorder {
  readonly messages: Received[] = []
  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString(), retain: packet.retain })
    })
  }

  static async connect(url: string): Promise<Recorder> {
    const recorder = new Recorder(await connectAsync(url, { reconnectPeriod: 0 }))
    await recorder.client.subscribeAsync('te/#', { qos: 1 })
    return recorder
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic)
  }

  json(topic: string): unknown[] {
    return this.on(topic).map((m) => (m.payload === '' ? '' : JSON.parse(m.payload)))
  }

  last(topic: string): unknown {
    return this.json(topic).at(-1)
  }

  publish(topic: string, payload: string): Promise<unknown> {
    return this.client.publishAsync(topic, payload)
  }

  close(): Promise<void> {
    return this.client.endAsync()
  }
}

const DEVICES = {
  'device/main//': undefined,
  'device/tank//': 'device/main//',
  'device/filler//': 'device/main//',
  'device/valve-bank//': 'device/filler//',
  'device/conveyor//': 'device/main//',
  'device/conveyor-drive//': 'device/conveyor//',
  'device/vision//': 'device/main//',
  'device/capper//': 'device/main//',
} as const

const SERVICES = {
  'device/main/service/line-controller': 'device/main//',
  'device/filler/service/plc-runtime': 'device/filler//',
  'device/vision/service/inspection': 'device/vision//',
  'device/conveyor-drive/service/condition-monitoring': 'device/conveyor-drive//',
} as const

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/

/** Checks a payload against thin-edge.io's measurement rules (reference §2.1); returns the problem or ''. */
function measurementProblem(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'not an object'
  let numbers = 0
  for (const [key, v] of Object.entries(payload)) {
    if (key === 'time') {
      if (typeof v !== 'string' || !RFC3339.test(v)) return `bad time ${String(v)}`
    } else if (typeof v === 'number') {
      numbers++
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const sv of Object.values(v)) if (typeof sv !== 'number') return `group ${key} is not flat numbers`
      numbers += Object.keys(v).length
    } else {
      return `${key} is ${typeof v}`
    }
  }
  return numbers > 0 ? '' : 'no values'
}

let broker: Aedes
let server: Server
let url: string
let sim: Simulator | undefined
const recorders: Recorder[] = []

async function record(): Promise<Recorder> {
  const recorder = await Recorder.connect(url)
  recorders.push(recorder)
  return recorder
}

beforeEach(async () => {
  broker = await Aedes.createBroker()
  server = createServer(broker.handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
  await Promise.all(recorders.splice(0).map((r) => r.close()))
  await new Promise<void>((resolve) => broker.close(() => resolve()))
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('simulated filling line over MQTT', () => {
  it('registers the nested line, its twin, units and services, and streams valid telemetry', async () => {
    const rec = await record()
    sim = createSimulator({ url, seed: 1, tickMs: 10 })
    await sim.start()

    await vi.waitFor(() => {
      for (const id of Object.keys(DEVICES)) expect(rec.on(`te/${id}`)).not.toHaveLength(0)
      for (const id of Object.keys(SERVICES))
        expect(rec.last(`te/${id}/status/health`)).toMatchObject({ status: 'up' })
      expect(rec.on('te/device/filler///m/filling').length).toBeGreaterThan(20)
    })

    expect(rec.last('te/device/main//')).toEqual({
      '@type': 'device',
      name: 'Filling Line 3',
      type: 'LineGateway',
    })
    for (const [id, parent] of Object.entries(DEVICES)) {
      if (!parent) continue
      expect(rec.last(`te/${id}`)).toMatchObject({ '@type': 'child-device', '@parent': parent })
    }
    for (const [id, parent] of Object.entries(SERVICES)) {
      expect(rec.last(`te/${id}`)).toMatchObject({ '@type': 'service', '@parent': parent, type: 'service' })
      const health = rec.last(`te/${id}/status/health`)
      expect(health).toMatchObject({ status: 'up', pid: expect.any(Number), time: expect.any(Number) })
    }

    expect(rec.last('te/device/filler///twin/firmware')).toEqual({
      name: 'plc-runtime',
      version: expect.any(String),
    })
    expect(rec.last('te/device/conveyor-drive///twin/serialNumber')).toEqual(expect.any(String))
    expect(rec.last('te/device/tank///m/tank/meta')).toMatchObject({
      level: { unit: '%' },
      temperature: { unit: '°C' },
    })
    expect(rec.last('te/device/valve-bank///m/valves/meta')).toMatchObject({ 'valves.v1': { unit: 'L/min' } })

    const measurements = rec.messages.filter((m) => {
      const parsed = parseTopic(m.topic)
      return parsed?.channel.kind === 'measurement'
    })
    const problems = measurements
      .map((m) => ({ topic: m.topic, problem: measurementProblem(JSON.parse(m.payload)) }))
      .filter((p) => p.problem !== '')
    expect(problems).toEqual([])
    const types = new Set(measurements.map((m) => m.topic))
    expect(types).toContain('te/device/valve-bank///m/valves')
    expect(types).toContain('te/device/conveyor-drive///m/vibration')
    // Both valid forms: with and without `time`.
    expect(rec.json('te/device/tank///m/tank')[0]).toHaveProperty('time')
    expect(rec.json('te/device/filler///m/filling')[0]).not.toHaveProperty('time')
    expect(rec.json('te/device/valve-bank///m/valves')[0]).toMatchObject({
      valves: { v1: expect.any(Number) },
    })
    expect(rec.json('te/device/filler///e/batch_start')[0]).toMatchObject({
      text: expect.any(String),
      time: expect.stringMatching(RFC3339),
      batch: { id: 'L3-00001' },
    })

    // Late subscribers get the state, not the stream: registrations, twin, units and health are retained.
    const late = await record()
    const retained = () => late.messages.filter((m) => m.retain).map((m) => m.topic)
    await vi.waitFor(() => {
      expect(retained()).toContain('te/device/valve-bank//')
      expect(retained()).toContain('te/device/filler///twin/firmware')
      expect(retained()).toContain('te/device/tank///m/tank/meta')
      expect(retained()).toContain('te/device/filler/service/plc-runtime/status/health')
    })
    expect(retained().filter((t) => /\/m\/[^/]+$/.test(t))).toEqual([])

    await sim.stop()
    sim = undefined
    await vi.waitFor(() => {
      for (const id of Object.keys(SERVICES))
        expect(rec.last(`te/${id}/status/health`)).toMatchObject({ status: 'down' })
    })
  })

  it('raises and clears a retained alarm from the simulated physics (seed 1: tank low during a supply outage)', async () => {
    const rec = await record()
    sim = createSimulator({ url, seed: 1, tickMs: 5 })
    await sim.start()
    const topic = 'te/device/tank///a/level_low'
    await vi.waitFor(
      () => {
        const states = rec.json(topic)
        const raised = states.findIndex((s) => s !== '')
        expect(raised).toBeGreaterThanOrEqual(0)
        expect(states[raised]).toMatchObject({
          severity: 'major',
          text: expect.any(String),
          time: expect.any(String),
        })
        expect(states.slice(raised + 1)).toContain('')
      },
      { timeout: 10_000, interval: 50 },
    )
    expect(rec.json('te/device/tank///e/supply_interrupted')).toHaveLength(1)
  })

  it('answers health checks and recovers from a dropped connection via its Last Will', async () => {
    const rec = await record()
    const brokerClients = new Map<string, Client>()
    broker.on('client', (client) => brokerClients.set(client.id, client))
    sim = createSimulator({ url, seed: 3 })
    await sim.start()
    const health = 'te/device/filler/service/plc-runtime/status/health'
    await vi.waitFor(() => expect(rec.on(health)).toHaveLength(1))

    await rec.publish('te/device/filler/service/plc-runtime/cmd/health/check', '{}')
    await vi.waitFor(() => expect(rec.on(health)).toHaveLength(2))
    // Device-wide check: every service of that device answers (reference §2.7).
    await rec.publish('te/device/filler///cmd/health/check', '')
    await vi.waitFor(() => expect(rec.on(health)).toHaveLength(3))
    expect(rec.on('te/device/vision/service/inspection/status/health')).toHaveLength(1)

    const plc = [...brokerClients.values()].find((c) => c.id.endsWith('-plc-runtime'))
    plc?.conn.destroy()
    await vi.waitFor(() => expect(rec.last(health)).toMatchObject({ status: 'down' }))
    await vi.waitFor(() => expect(rec.last(health)).toMatchObject({ status: 'up' }), { timeout: 5000 })
  })

  it('publishes the same values for the same seed', async () => {
    const rec = await record()
    const firstTanks = async (): Promise<unknown[]> => {
      const from = rec.messages.length
      const s = createSimulator({ url, seed: 5, tickMs: 5 })
      await s.start()
      const tank = () =>
        rec.messages
          .slice(from)
          .filter((m) => m.topic === 'te/device/tank///m/tank' || m.topic.includes('/e/'))
      await vi.waitFor(() => expect(tank().length).toBeGreaterThanOrEqual(30))
      await s.stop()
      return tank()
        .slice(0, 30)
        .map((m) => {
          const { time: _time, ...rest } = JSON.parse(m.payload) as Record<string, unknown>
          return { topic: m.topic, ...rest }
        })
    }
    const first = await firstTanks()
    expect(await firstTanks()).toEqual(first)
  })

  it('starts and stops repeatedly without leaving a client connected', async () => {
    for (let i = 0; i < 3; i++) {
      const s = createSimulator({ url, seed: i, tickMs: 5, devices: 3, rate: 20 })
      await s.start()
      expect(broker.connectedClients).toBeGreaterThan(5)
      await s.stop()
      await vi.waitFor(() => expect(broker.connectedClients).toBe(0))
    }
  })

  it('rejects start when no broker listens', async () => {
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    server = createServer()
    const s = createSimulator({ url: `mqtt://127.0.0.1:${port}` })
    await expect(s.start()).rejects.toThrow()
    await s.stop()
  })
})

describe('simulator load mode', () => {
  it('registers N flat child devices and sustains devices × rate messages per second', async () => {
    const rec = await record()
    sim = createSimulator({ url, seed: 11, devices: 20, rate: 50 })
    await sim.start()
    const isLoad = (m: Received) => /^te\/device\/load-\d{4}\/\/\/m\/load$/.test(m.topic)
    await vi.waitFor(() => {
      expect(rec.on('te/device/load-0020//')).toHaveLength(1)
      expect(rec.messages.some(isLoad)).toBe(true)
    })
    expect(rec.last('te/device/load-0001//')).toMatchObject({
      '@type': 'child-device',
      '@parent': 'device/main//',
    })
    expect(rec.last('te/device/load-0001///m/load/meta')).toHaveProperty('temperature.unit', '°C')

    const countFrom = rec.messages.filter(isLoad).length
    const t0 = performance.now()
    // The measurement window is the point of this test, so it waits for wall-clock time.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const seconds = (performance.now() - t0) / 1000
    const load = rec.messages.filter(isLoad)
    const arrived = load.length - countFrom
    const expected = 20 * 50 * seconds
    expect(arrived).toBeGreaterThan(expected * 0.75)
    expect(arrived).toBeLessThan(expected * 1.25)
    expect(new Set(load.map((m) => m.topic)).size).toBe(20)
    const sample = JSON.parse(load.at(-1)?.payload ?? '{}') as Record<string, unknown>
    expect(Object.values(sample)).toHaveLength(5)
    expect(measurementProblem(sample)).toBe('')
    expect(sim.stats.published).toBeGreaterThanOrEqual(load.length)
  })
})
