import { rmSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { collect, tempDir } from '../../helpers/core'
import { megabytes, procStatus, sampleRss } from '../../helpers/proc'
import { publishHead, RawClient } from '../../helpers/raw-mqtt'

// A client cannot make the broker hold what it sends: a packet over the size limit is refused as its
// fixed header arrives (aedes' parser would buffer all of it first), a retained payload over its limit
// is refused with a reason on te/errors, and the core's resident memory (the `serve` process, from
// /proc/<pid>/status) stays below twice what it was idle while other clients are served throughout.

const MB = 1024 * 1024
const processes = new CliProcesses()
const dirs: string[] = []
const clients: MqttClient[] = []

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)))
  await processes.cleanup()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function serve(args: string[] = []): Promise<ServingCli> {
  const dir = tempDir('edgetwin-limits-')
  dirs.push(dir)
  return processes.serve(dir, { args })
}

async function client(core: ServingCli): Promise<MqttClient> {
  const c = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })
  clients.push(c)
  return c
}

/**
 * Connects a raw client and streams one PUBLISH of `total` bytes in 1 MB writes until the server closes
 * the connection; resolves with the bytes handed to the socket by then.
 */
async function streamHuge(url: string, topic: string, total: number, retain: boolean): Promise<number> {
  const raw = new RawClient(url)
  await raw.connect()
  const head = publishHead(topic, total, { qos: 1, retain, id: 1 })
  const chunk = Buffer.alloc(MB, 0x61)
  raw.socket.write(head)
  let written = head.length
  while (written < total && !raw.isClosed) {
    const ok = raw.socket.write(chunk.subarray(0, Math.min(MB, total - written)))
    written += Math.min(MB, total - written)
    // Not events.once: it rejects on the 'error' the server's reset raises.
    if (!ok) await Promise.race([new Promise((resolve) => raw.socket.once('drain', resolve)), raw.closed])
  }
  await raw.closedByServer()
  return written
}

/** A client that keeps a QoS 1 round trip going, to show the broker serves others throughout. */
async function steadyClient(core: ServingCli) {
  const c = await client(core)
  const echo = await collect(c, 'te/device/steady01///e/+')
  let closed = false
  c.on('close', () => {
    closed = true
  })
  let running = true
  let roundTrips = 0
  const loop = (async () => {
    while (running) {
      const n = roundTrips + 1
      await c.publishAsync(`te/device/steady01///e/tick`, JSON.stringify({ text: `tick ${n}` }), { qos: 1 })
      await echo.next((m) => m.payload.includes(`"tick ${n}"`))
      roundTrips = n
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      expect(closed).toBe(false)
      return roundTrips
    },
  }
}

describe('packets and retained payloads over the limits (defaults: 256 KiB, 128 KiB)', () => {
  let core: ServingCli
  let idle: number

  beforeAll(async () => {
    core = await serve()
    // Warm: the API answered and a message went through the broker and the store.
    const warm = await client(core)
    await warm.publishAsync('te/device/warm01///m/env', '{"temperature":1}', { qos: 1 })
    expect((await core.http('/api/v1/health')).status).toBe(200)
    idle = procStatus(core.ready.pid, 'VmRSS')
  })

  it('closes connections sending 200 MB packets and 100 MB retained payloads at their header, and stays below twice its idle memory', async () => {
    const rss = sampleRss(core.ready.pid)
    const steady = await steadyClient(core)
    const written = await Promise.all([
      streamHuge(core.ready.mqtt, 'te/device/big01///e/huge', 200 * MB, false),
      streamHuge(core.ready.mqtt, 'te/device/big01///m/huge', 200 * MB, false),
      streamHuge(core.ready.mqtt, 'te/device/big01///a/huge', 200 * MB, true),
      streamHuge(core.ready.mqtt, 'te/device/big01///twin/blob100', 100 * MB, true),
    ])
    for (const size of [1, 10, 50])
      written.push(await streamHuge(core.ready.mqtt, `te/device/big01///twin/blob${size}`, size * MB, true))
    const roundTrips = await steady.stop()
    const peak = rss.stop()
    console.info(
      `idle RSS ${megabytes(idle)}, peak ${megabytes(peak)} (limit ${megabytes(2 * idle)}); ` +
        `bytes written before the close: ${written.map(megabytes).join(', ')}; ${roundTrips} round trips meanwhile`,
    )
    expect(peak).toBeLessThan(2 * idle)
    // What the client wrote before the close is what the sockets' buffers held, not the packets.
    for (const bytes of written) expect(bytes).toBeLessThan(50 * MB)
    expect(roundTrips).toBeGreaterThan(0)

    const status = await core.json<{ broker: { refused: Record<string, number>; retainedBytes: number } }>(
      '/api/v1/status',
    )
    expect(status.broker.refused['packet size']).toBe(7)
    expect(status.broker.retainedBytes).toBeLessThan(MB)
    const entity = await core.http(`/api/v1/entities/${encodeURIComponent('device/big01//')}`)
    expect(entity.status).toBe(404)
  })

  it('acknowledges a retained payload over 128 KiB, keeps none of it and says why on te/errors', async () => {
    const c = await client(core)
    const errors = await collect(c, 'te/errors')
    const topic = 'te/device/big02///twin/blob'
    await c.publishAsync('te/device/big02//', '{"@type":"child-device"}', { qos: 1, retain: true })
    await c.publishAsync(topic, JSON.stringify({ blob: 'b'.repeat(200 * 1024) }), { qos: 1, retain: true })
    const report = await errors.next((m) => m.payload.includes(topic))
    expect(JSON.parse(report.payload)).toMatchObject({
      topic,
      error: `retained payload of ${200 * 1024 + 11} bytes is over the limit of ${128 * 1024} bytes`,
    })
    // Retained in order: a fresh subscriber that gets the later, small fragment would have got the big one before.
    await c.publishAsync('te/device/big02///twin/small', '{"ok":true}', { qos: 1, retain: true })
    const fresh = await collect(await client(core), 'te/device/big02///twin/+')
    await fresh.next((m) => m.topic === 'te/device/big02///twin/small' && m.retain)
    expect(fresh.messages.map((m) => m.topic)).toEqual(['te/device/big02///twin/small'])
    const detail = await core.json<{ twin: Record<string, unknown> }>(
      `/api/v1/entities/${encodeURIComponent('device/big02//')}`,
    )
    expect(Object.keys(detail.twin)).toEqual(['small'])
  })
})

describe('the limits are options of serve', () => {
  it('takes --mqtt-max-packet-size and --mqtt-max-retained-size with K and M', async () => {
    const core = await serve(['--mqtt-max-packet-size', '64K', '--mqtt-max-retained-size', '8K'])
    const c = await client(core)
    const errors = await collect(c, 'te/errors')
    await c.publishAsync('te/device/opt01///twin/ok', JSON.stringify({ v: 'o'.repeat(8000) }), {
      qos: 1,
      retain: true,
    })
    await c.publishAsync('te/device/opt01///twin/big', JSON.stringify({ v: 'o'.repeat(9000) }), {
      qos: 1,
      retain: true,
    })
    await errors.next(
      (m) => m.payload.includes('te/device/opt01///twin/big') && m.payload.includes('8192 bytes'),
    )
    expect(errors.messages.filter((m) => m.payload.includes('twin/ok'))).toEqual([])

    const raw = new RawClient(core.ready.mqtt)
    await raw.connect()
    raw.send(
      Buffer.concat([publishHead('te/device/opt01///e/x', 65 * 1024, { qos: 1 }), Buffer.alloc(65 * 1024)]),
    )
    await raw.closedByServer()
    expect(raw.received.length).toBe(4)
  })

  it('refuses a size it cannot read, with one line on stderr', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const cli = processes.run(['serve', '--mqtt-max-packet-size', '12x', '--data-dir', dir])
    expect((await cli.exited).code).toBe(2)
    expect(cli.stderr()).toBe(
      'edgetwin: --mqtt-max-packet-size must be a size like 500M or 2G from 64 bytes to 256 MiB, not "12x"\n',
    )
  })
})
