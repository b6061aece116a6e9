import { rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import { createPrng, type Prng } from '../../../src-main/core/sim/prng'
import { CliProcesses } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'
import { megabytes, procStatus, sampleRss } from '../../helpers/proc'
import { type Message, payload, pick, registration, segments, sendAll, text, topic } from './fuzz-input'

// Tens of thousands of random and malformed messages from several clients against the real CLI, as
// an attacker on the local bus would send them: the te/ grammar and beyond, unicode and long levels,
// random bytes, invalid UTF-8, broken and deep JSON, registrations, commands, 180 KiB payloads, QoS 0
// and 1, retained or not. It fails on a crash, on a hang (/api/v1/health is asked every 100 ms and
// must answer within 5 s throughout), on resident memory growing past 2.5 times idle, or on a
// database that fails PRAGMA integrity_check. EDGETWIN_FUZZ_MESSAGES runs a larger one locally.

const SEED = 0xf022b16
const MESSAGES = Number(process.env.EDGETWIN_FUZZ_MESSAGES ?? 30_000)
const CLIENTS = 4
/**
 * One message in this many carries a 180 KiB payload: with the longest topic the fuzz makes (60,000
 * characters) it stays under the 256 KiB packet limit, whose refusal closes the connection.
 */
const LARGE_EVERY = 1000

/** Registrations of many entities, retained, and commands on them: what made the twin grow. */
function registrationMessage(r: Prng): Message {
  const id = r.chance(0.5) ? `device/${text(r, 12)}//` : segments(r, 4)
  return { topic: `te/${id}`, payload: JSON.stringify(registration(r)), qos: 1, retain: true }
}

function commandMessage(r: Prng): Message {
  const operation = pick(r, ['restart', 'software_update', 'config_update', 'log_upload', 'x', ''])
  const body = r.chance(0.5)
    ? { status: pick(r, ['init', 'executing', 'successful', 'failed', 5]) }
    : payload(r)
  return {
    topic: `te/device/${pick(r, ['main', 'c1', text(r, 6)])}///cmd/${operation}/${text(r, 8)}`,
    payload: typeof body === 'object' && !Buffer.isBuffer(body) ? JSON.stringify(body) : body,
    qos: 1,
    retain: true,
  }
}

function messages(r: Prng): Message[] {
  return Array.from({ length: MESSAGES }, (_, i) => {
    if (i % LARGE_EVERY === LARGE_EVERY - 1)
      return {
        topic: topic(r),
        payload: JSON.stringify({ text: 'l'.repeat(180 * 1024) }),
        qos: 1,
        retain: r.chance(0.5),
      }
    const kind = r.int(0, 9)
    if (kind === 0) return registrationMessage(r)
    if (kind === 1) return commandMessage(r)
    return { topic: topic(r), payload: payload(r), qos: r.chance(0.5) ? 1 : 0, retain: r.chance(0.3) }
  })
}

/** Asks /api/v1/health every 100 ms; every answer must come within 5 s (a hang, not a slow machine). */
function healthWatch(url: string) {
  const failures: string[] = []
  let slowest = 0
  let asked = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const started = Date.now()
      try {
        const response = await fetch(new URL('/api/v1/health', url), { signal: AbortSignal.timeout(5000) })
        if (response.status !== 200) failures.push(`status ${response.status}`)
        await response.arrayBuffer()
      } catch (error) {
        failures.push(`${(error as Error).name}: ${(error as Error).message}`)
      }
      asked++
      slowest = Math.max(slowest, Date.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { failures, slowest, asked }
    },
  }
}

describe(`an MQTT fuzz of ${MESSAGES} messages against edgetwin serve`, () => {
  const processes = new CliProcesses()
  const dir = tempDir('edgetwin-mqtt-fuzz-')
  const clients: MqttClient[] = []

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await processes.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('neither crashes nor hangs, and leaves a consistent database', { timeout: 120_000 }, async () => {
    const core = await processes.serve(dir)
    const pid = core.ready.pid
    const warm = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })
    clients.push(warm)
    await warm.publishAsync('te/device/warm01///m/env', '{"temperature":1}', { qos: 1 })
    const idle = procStatus(pid, 'VmRSS')

    const started = Date.now()
    const rss = sampleRss(pid, 100)
    const health = healthWatch(core.ready.http)
    const all = messages(createPrng(SEED))
    const fuzzers = await Promise.all(
      Array.from({ length: CLIENTS }, () => mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })),
    )
    clients.push(...fuzzers)
    const sent = await Promise.all(
      fuzzers.map((client, k) =>
        sendAll(
          client,
          all.filter((_, i) => i % CLIENTS === k),
          `fuzz ${k}`,
        ),
      ),
    )
    const seconds = (Date.now() - started) / 1000
    const answers = await health.stop()
    const peak = rss.stop()
    const after = procStatus(pid, 'VmRSS')
    const status = await core.json<{
      ingest: { received: number; rejected: number }
      entities: number
      store: { bytes: number }
      broker: { retainedBytes: number; refused: Record<string, number> }
    }>('/api/v1/status')
    console.info(
      `mqtt fuzz seed ${SEED}: ${MESSAGES} messages in ${seconds.toFixed(1)} s; ` +
        `RSS idle ${megabytes(idle)}, peak ${megabytes(peak)}, after ${megabytes(after)}; ` +
        `health asked ${answers.asked} times, slowest ${answers.slowest} ms; ` +
        `ingest received ${status.ingest.received}, rejected ${status.ingest.rejected}; ${status.entities} entities; ` +
        `database ${megabytes(status.store.bytes)}, retained ${megabytes(status.broker.retainedBytes)}; ` +
        `refused ${JSON.stringify(status.broker.refused)}`,
    )
    expect(sent.reduce((a, b) => a + b, 0)).toBe(MESSAGES)
    expect(answers.failures).toEqual([])
    expect(core.child.exitCode).toBeNull()
    // Below twice idle on a quiet machine (docs/benchmarks.md); the margin is for a busy one.
    expect(peak).toBeLessThan(2.5 * idle)

    core.child.kill('SIGTERM')
    expect(await core.exited).toEqual({ code: 0, signal: null })
    const db = new Database(path.join(dir, 'edgetwin.db'), { readonly: true, fileMustExist: true })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      db.close()
    }
  })
})
