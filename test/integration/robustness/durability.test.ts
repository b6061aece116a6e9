import { once } from 'node:events'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { CliProcesses, kill9, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// The real CLI as a child process (dist/cli.js, built by `npm test` before vitest runs): a QoS 1 PUBACK
// means stored even across kill -9 (DESIGN §4), SIGTERM stops cleanly, bad input fails clearly (§3.1).

type Serving = ServingCli

const processes = new CliProcesses()
const run = (args: string[]) => processes.run(args)
const serve = (dir: string) => processes.serve(dir)
const dirs: string[] = []
const clients: MqttClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
  await processes.cleanup()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = tempDir('edgetwin-durability-')
  dirs.push(dir)
  return dir
}

async function client(core: Serving, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0, ...options })
  clients.push(c)
  return c
}

function integrityCheck(dir: string): string {
  const db = new Database(path.join(dir, 'edgetwin.db'), { readonly: true, fileMustExist: true })
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

/**
 * Retained messages under a filter, as a fresh subscriber gets them, once each of `topics` has come
 * (the filter matches others too, such as the twin fragments the core publishes from registrations).
 */
async function retained(core: Serving, filter: string, topics: string[]): Promise<Map<string, string>> {
  const c = await client(core)
  const messages = new Map<string, string>()
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) messages.set(topic, payload.toString())
  })
  await c.subscribeAsync(filter, { qos: 1 })
  await vi.waitFor(() => expect(topics.filter((topic) => !messages.has(topic))).toEqual([]))
  return messages
}

interface EntityDetail {
  twin: Record<string, { value: unknown }>
  series: Array<{ id: number; type: string; name: string }>
}

/** Times (epoch ms) stored for each series of an entity, through the API. */
async function storedTimes(core: Serving, entity: string, from: number): Promise<Map<string, number[]>> {
  const detail = await core.json<EntityDetail>(`/api/v1/entities/${encodeURIComponent(entity)}`)
  const result = new Map<string, number[]>()
  for (const s of detail.series) {
    const answer = await core.json<{ resolution: string; points: Array<{ time: number; count: number }> }>(
      `/api/v1/series/${s.id}?from=${from}&to=${Date.now() + 60_000}&points=10000`,
    )
    expect(answer.resolution).toBe('raw')
    expect(answer.points.every((p) => p.count === 1)).toBe(true)
    // Sent as unix seconds with a millisecond fraction: ms * 1000 / 1000 need not be exact in binary.
    result.set(
      `${s.type}/${s.name}`,
      answer.points.map((p) => Math.round(p.time)),
    )
  }
  return result
}

const PUBLISHERS = 3
/** Per publisher: more than it can send before the kill, fewer than one series query returns. */
const MAX_PER_PUBLISHER = 9000
const IN_FLIGHT = 16

interface Publisher {
  series: string
  sent: number
  acked: Set<number>
  done: Promise<void>
}

/** Streams QoS 1 measurements with distinct times, recording which ones were acknowledged. */
function publish(c: MqttClient, series: string, base: number): Publisher {
  const publisher: Publisher = { series, sent: 0, acked: new Set(), done: Promise.resolve() }
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
  publisher.done = (async () => {
    const inFlight = new Set<Promise<void>>()
    for (let i = 0; i < MAX_PER_PUBLISHER && c.connected; i++) {
      const body = JSON.stringify({ time: (base + i) / 1000, [series]: i })
      const p: Promise<void> = c.publishAsync('te/device/dur01///m/load', body, { qos: 1 }).then(
        () => {
          publisher.acked.add(base + i)
          inFlight.delete(p)
        },
        () => {
          inFlight.delete(p)
        },
      )
      inFlight.add(p)
      publisher.sent++
      if (inFlight.size >= IN_FLIGHT) await Promise.race([closed, ...inFlight])
    }
  })()
  return publisher
}

describe('durability of the real CLI', () => {
  it('keeps every acknowledged message, retained state and a sound database across kill -9 during ingest', async () => {
    const dir = dataDir()
    const first = await serve(dir)
    const setup = await client(first)
    const state: Array<[string, unknown]> = [
      ['te/device/dur01//', { '@type': 'child-device', name: 'dur01' }],
      ['te/device/dur01/service/logger', { '@type': 'service', name: 'logger' }],
      ['te/device/dur01///twin/firmware', { name: 'fw', version: '2.4.1' }],
      ['te/device/dur01///m/load/meta', { p0: { unit: 'W' } }],
      ['te/device/dur01///a/overheat', { severity: 'critical', text: 'too hot' }],
    ]
    for (const [topic, body] of state)
      await setup.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true })

    // Whole milliseconds a few minutes back; each publisher has its own series, 100 s of distinct times.
    const base = Date.now() - 5 * 60_000
    const publishers = await Promise.all(
      Array.from({ length: PUBLISHERS }, async (_, k) =>
        publish(await client(first), `p${k}`, base + k * 100_000),
      ),
    )
    const acked = () => publishers.reduce((n, p) => n + p.acked.size, 0)
    await vi.waitFor(() => expect(acked()).toBeGreaterThanOrEqual(1500), { timeout: 20_000, interval: 5 })
    // A retained alarm acknowledged just before the crash: its broker copy must be stored before the ack too.
    const lastGasp = ['te/device/dur01///a/pressure', { severity: 'major', text: 'pressure drop' }] as const
    await setup.publishAsync(lastGasp[0], JSON.stringify(lastGasp[1]), { qos: 1, retain: true })
    await kill9(first)
    state.push([lastGasp[0], lastGasp[1]])
    await Promise.all(publishers.map((p) => p.done))
    const sent = publishers.reduce((n, p) => n + p.sent, 0)
    // Killed mid-stream: messages were still in flight, unacknowledged.
    expect(sent).toBeGreaterThan(acked())

    const second = await serve(dir)
    const stored = await storedTimes(second, 'device/dur01//', base - 1)
    let storedCount = 0
    for (const p of publishers) {
      const times = new Set(stored.get(`load/${p.series}`))
      storedCount += times.size
      const lost = [...p.acked].filter((time) => !times.has(time))
      expect(lost, `${p.series}: acknowledged but not stored`).toEqual([])
    }
    console.info(
      `kill -9 during ingest: sent ${sent}, acknowledged ${acked()}, stored after restart ${storedCount}`,
    )

    const detail = await second.json<EntityDetail & { children: string[] }>(
      `/api/v1/entities/${encodeURIComponent('device/dur01//')}`,
    )
    expect(detail.twin.firmware?.value).toEqual({ name: 'fw', version: '2.4.1' })
    expect(detail.children).toContain('device/dur01/service/logger')
    const alarms = await second.json<Array<{ type: string; severity: string }>>(
      `/api/v1/alarms?entity=${encodeURIComponent('device/dur01//')}`,
    )
    expect(alarms.map((a) => [a.type, a.severity]).sort()).toEqual([
      ['overheat', 'critical'],
      ['pressure', 'major'],
    ])
    const messages = await retained(
      second,
      'te/device/dur01/#',
      state.map(([topic]) => topic),
    )
    for (const [topic, body] of state) expect(JSON.parse(messages.get(topic) ?? 'null'), topic).toEqual(body)

    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
    expect(integrityCheck(dir)).toBe('ok')
  })

  it('delivers the queued QoS 1 messages of an offline persistent session after kill -9 and restart', async () => {
    const dir = dataDir()
    const first = await serve(dir)
    const session = { clientId: 'durable-subscriber', clean: false, protocolVersion: 4 as const }
    const subscriber = await client(first, session)
    await subscriber.subscribeAsync('te/device/dur02///e/+', { qos: 1 })
    await subscriber.endAsync()

    const publisher = await client(first)
    const texts = Array.from({ length: 50 }, (_, i) => `event ${i}`)
    for (const text of texts)
      await publisher.publishAsync('te/device/dur02///e/door', JSON.stringify({ text }), { qos: 1 })
    await kill9(first)

    const second = await serve(dir)
    const received: string[] = []
    // Listening before the CONNACK: the queue is delivered right after it.
    const again = mqtt.connect(second.ready.mqtt, { reconnectPeriod: 0, ...session })
    clients.push(again)
    again.on('message', (_topic, payload) =>
      received.push((JSON.parse(payload.toString()) as { text: string }).text),
    )
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) =>
      again.once('connect', resolve),
    )
    expect(connack.sessionPresent).toBe(true)
    await vi.waitFor(() => expect(received).toHaveLength(texts.length))
    expect(received).toEqual(texts)
  })

  it('stops on SIGTERM with exit 0 within seconds, keeping what was written before', async () => {
    const dir = dataDir()
    const first = await serve(dir)
    const c = await client(first)
    const base = Date.now() - 60_000
    const count = 300
    // QoS 0: nothing waits for a commit, so what is still queued at SIGTERM must be flushed by the stop.
    for (let i = 0; i < count; i++) {
      await c.publishAsync('te/device/dur03///m/env', JSON.stringify({ time: (base + i) / 1000, t: i }), {
        qos: 0,
      })
    }
    await c.publishAsync('te/device/dur03///twin/serial', '"SN-0042"', { qos: 0, retain: true })
    await vi.waitFor(async () => {
      const status = await first.json<{ ingest: { received: number } }>('/api/v1/status')
      expect(status.ingest.received).toBeGreaterThanOrEqual(count + 1)
    })
    const started = Date.now()
    first.child.kill('SIGTERM')
    expect(await first.exited).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(first.stderr()).not.toMatch(/error|Error/)

    const second = await serve(dir)
    const stored = await storedTimes(second, 'device/dur03//', base - 1)
    expect(stored.get('env/t')).toEqual(Array.from({ length: count }, (_, i) => base + i))
    const detail = await second.json<EntityDetail>(`/api/v1/entities/${encodeURIComponent('device/dur03//')}`)
    expect(detail.twin.serial?.value).toBe('SN-0042')
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
    expect(integrityCheck(dir)).toBe('ok')
  })
})

/** A port something else is listening on. */
async function occupiedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Log records are `HH:MM:SS level message`; the failure itself is one `edgetwin: …` line, last. */
function expectOneClearLine(stderr: string, reason: RegExp): void {
  const lines = stderr.split('\n').filter((line) => line !== '')
  const errors = lines.filter((line) => line.startsWith('edgetwin: '))
  expect(errors, stderr).toHaveLength(1)
  expect(errors[0]).toMatch(reason)
  expect(lines.at(-1)).toBe(errors[0])
  const other = lines.filter((line) => !line.startsWith('edgetwin: '))
  expect(
    other.filter((line) => !/^\d\d:\d\d:\d\d (trace|debug|info|warn) /.test(line)),
    stderr,
  ).toEqual([])
}

describe('bad command line input', () => {
  const cases: Array<[string, string[], RegExp, number]> = [
    [
      'an unknown option',
      ['--bogus'],
      /^edgetwin: unknown option --bogus \(try: edgetwin serve --help\)$/,
      2,
    ],
    [
      'a port out of range',
      ['--mqtt-port', '70000'],
      /--mqtt-port must be an integer from 0 to 65535, not "70000"/,
      2,
    ],
    ['a port that is not a number', ['--http-port', 'abc'], /--http-port must be an integer .* not "abc"/, 2],
  ]
  for (const [what, args, reason, code] of cases) {
    it(`fails on ${what} with one line on stderr and exit ${code}`, async () => {
      const dir = dataDir()
      const readyFile = path.join(dir, 'ready.json')
      const cli = run(['serve', '--data-dir', dir, '--no-sim', '--ready-file', readyFile, ...args])
      expect(await cli.exited).toEqual({ code, signal: null })
      expect(cli.stderr().trim().split('\n')).toHaveLength(1)
      expectOneClearLine(cli.stderr(), reason)
      expect(existsSync(readyFile)).toBe(false)
      // A usage error is found before anything starts: not even the data dir is prepared.
      expect(existsSync(path.join(dir, 'edgetwin.db'))).toBe(false)
    })
  }

  for (const which of ['mqtt', 'http'] as const) {
    it(`fails on a ${which.toUpperCase()} port in use, leaving nothing half-started`, async () => {
      const dir = dataDir()
      const readyFile = path.join(dir, 'ready.json')
      const busy = await occupiedPort()
      try {
        const ports =
          which === 'mqtt'
            ? ['--mqtt-port', String(busy.port), '--http-port', '0']
            : ['--mqtt-port', '0', '--http-port', String(busy.port)]
        const cli = run(['serve', '--data-dir', dir, '--no-sim', '--ready-file', readyFile, ...ports])
        expect((await cli.exited).code).toBe(1)
        expectOneClearLine(
          cli.stderr(),
          new RegExp(
            `${which.toUpperCase()} port 127\\.0\\.0\\.1:${busy.port} is already in use` +
              (which === 'mqtt'
                ? `.*attach to the broker listening there with --broker-url mqtt://127\\.0\\.0\\.1:${busy.port}`
                : ''),
          ),
        )
        expect(cli.stdout()).not.toMatch(/ready/)
        expect(existsSync(readyFile)).toBe(false)
      } finally {
        await busy.close()
      }
      // What the failed start created is consistent: the same data dir starts cleanly afterwards.
      const core = await serve(dir)
      expect((await core.http('/api/v1/health')).status).toBe(200)
      core.child.kill('SIGTERM')
      expect((await core.exited).code).toBe(0)
      expect(integrityCheck(dir)).toBe('ok')
    })
  }

  it('fails on a data dir that cannot be created, with one line on stderr', async () => {
    const dir = dataDir()
    const file = path.join(dir, 'a-file')
    writeFileSync(file, 'not a directory')
    const readyFile = path.join(dir, 'ready.json')
    const cli = run([
      'serve',
      '--data-dir',
      path.join(file, 'twin'),
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--no-sim',
      '--ready-file',
      readyFile,
    ])
    expect((await cli.exited).code).toBe(1)
    expect(cli.stderr().trim().split('\n')).toHaveLength(1)
    expectOneClearLine(
      cli.stderr(),
      /data dir .*a-file\/twin cannot be used: .*a-file is a file, not a folder/,
    )
    expect(existsSync(readyFile)).toBe(false)
  })

  it('fails fast on a data dir under /proc, where a recursive mkdir never returns', async () => {
    const cli = run([
      'serve',
      '--data-dir',
      '/proc/edgetwin-nope/twin',
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ])
    expect((await cli.exited).code).toBe(1)
    expectOneClearLine(
      cli.stderr(),
      /data dir \/proc\/edgetwin-nope\/twin cannot be used: \/proc is on proc, a kernel filesystem/,
    )
  })
})
