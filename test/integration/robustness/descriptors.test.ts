import { readdirSync, readFileSync, rmSync } from 'node:fs'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'
import { CONNACK_ACCEPTED, connect, RawClient } from '../../helpers/raw-mqtt'

// Every MQTT connection is a file descriptor. Under a low descriptor limit (`ulimit -n 256`, applied to
// the core only), MQTT clients opening more connections than that must not starve HTTP, SQLite and the
// agent: the broker takes what the limit leaves after a reserve, closes the rest as soon as they are
// accepted and counts them, and the API keeps answering and running operations.

const DESCRIPTORS = 256
/** connectionsFor(256) in broker/limits.ts: 256 less a reserve of max(128, 256 / 4). */
const MQTT_CONNECTIONS = 128
const ATTEMPTS = 400

describe(`MQTT clients trying to take every descriptor under ulimit -n ${DESCRIPTORS}`, () => {
  const processes = new CliProcesses()
  const dir = tempDir('edgetwin-descriptors-')
  const raws: RawClient[] = []
  let core: ServingCli

  beforeAll(async () => {
    core = await processes.serve(dir, { wrap: ['bash', '-c', `ulimit -n ${DESCRIPTORS}; exec "$@"`, 'bash'] })
  })
  afterAll(async () => {
    for (const raw of raws) raw.destroy()
    await processes.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs with the low limit, and derives its MQTT connection limit from it', async () => {
    expect(readFileSync(`/proc/${core.ready.pid}/limits`, 'utf8')).toMatch(
      new RegExp(`^Max open files\\s+${DESCRIPTORS}\\s`, 'm'),
    )
    const status = await core.json<{ broker: { maxConnections: number } }>('/api/v1/status')
    expect(status.broker.maxConnections).toBe(MQTT_CONNECTIONS)
  })

  it(`accepts ${MQTT_CONNECTIONS} of ${ATTEMPTS} connections and closes the others at once`, async () => {
    for (let i = 0; i < ATTEMPTS; i++) {
      const raw = new RawClient(core.ready.mqtt)
      raws.push(raw)
      raw.socket.once('connect', () => raw.send(connect({ clientId: `hog-${i}` })))
    }
    // Each connection ends up either accepted (CONNACK) or closed by the server.
    await vi.waitFor(
      () => {
        const settled = raws.filter((r) => r.isClosed || r.received.includes(CONNACK_ACCEPTED))
        expect(settled).toHaveLength(ATTEMPTS)
      },
      { timeout: 20_000, interval: 50 },
    )
    const accepted = raws.filter((r) => !r.isClosed)
    expect(accepted).toHaveLength(MQTT_CONNECTIONS)
    const open = readdirSync(`/proc/${core.ready.pid}/fd`).length
    expect(open).toBeLessThan(DESCRIPTORS - 32)
    const status = await core.json<{ broker: { connections: number; refused: Record<string, number> } }>(
      '/api/v1/status',
    )
    expect(status.broker.connections).toBe(MQTT_CONNECTIONS)
    expect(status.broker.refused['connection limit']).toBe(ATTEMPTS - MQTT_CONNECTIONS)
    console.info(`${accepted.length} MQTT connections held, ${open} descriptors open in the core`)
  })

  it('still answers health and authenticated API calls, and runs a requested operation', async () => {
    const health = await fetch(new URL('/api/v1/health', core.ready.http))
    expect(health.status).toBe(200)
    expect((await core.json<Array<{ id: string }>>('/api/v1/entities')).map((e) => e.id)).toContain(
      'device/main//',
    )
    const requested = await core.http(`/api/v1/entities/${encodeURIComponent('device/main//')}/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'software_list', payload: {} }),
    })
    expect(requested.status).toBe(201)
    const { id } = (await requested.json()) as { id: number }
    await vi.waitFor(
      async () => {
        const operation = await core.json<{ status: string }>(`/api/v1/operations/${id}`)
        expect(operation.status).toBe('successful')
      },
      { timeout: 15_000, interval: 100 },
    )
  })

  it('takes new MQTT clients again once connections are closed', async () => {
    for (const raw of raws.splice(0)) raw.destroy()
    await vi.waitFor(async () => {
      const status = await core.json<{ broker: { connections: number } }>('/api/v1/status')
      expect(status.broker.connections).toBe(0)
    })
    const client = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })
    await client.publishAsync('te/device/after01///e/ok', '{"text":"back"}', { qos: 1 })
    await client.endAsync()
  })
})
