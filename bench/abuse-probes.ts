// What every phase of the abuse group (n1–n9) asks of the core while it is attacked: does it still
// answer, how slowly, and with how much memory.
import { readdirSync, readFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { type CoreReady, memoryOf, sleep } from './processes'

/** A request that takes longer than this counts as not answered. */
export const ANSWER_TIMEOUT_MS = 5_000

/** An HTTP status, or why no answer came (timeout, connection refused…). */
export type Answer = number | string

export async function request(
  ready: CoreReady,
  pathname: string,
  { token = false, timeoutMs = ANSWER_TIMEOUT_MS } = {},
): Promise<{ answer: Answer; ms: number; bytes: number }> {
  const started = performance.now()
  try {
    const response = await fetch(new URL(pathname, ready.http), {
      headers: token ? { authorization: `Bearer ${ready.token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    })
    const bytes = (await response.arrayBuffer()).byteLength
    return { answer: response.status, ms: performance.now() - started, bytes }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    const name = (error as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : undefined
    return { answer: name ?? cause ?? (error as Error).message, ms: performance.now() - started, bytes: 0 }
  }
}

/** `GET /api/v1/health` (public) and `GET /api/v1/status` (with the token), once each. */
export interface Answers {
  health: Answer
  api: Answer
}

export async function answers(ready: CoreReady): Promise<Answers> {
  const [health, api] = await Promise.all([
    request(ready, '/api/v1/health'),
    request(ready, '/api/v1/status', { token: true }),
  ])
  return { health: health.answer, api: api.answer }
}

export const answered = (a: Answers) => a.health === 200 && a.api === 200

export interface HealthSummary {
  probes: number
  /** Probes without a 200 within ANSWER_TIMEOUT_MS. */
  failed: number
  /** Slowest answer (or the timeout), ms. */
  maxMs: number
  /** The first failure, e.g. `no answer in 5000 ms` or `503`. */
  firstFailure?: Answer
}

/** Polls `/api/v1/health` every `everyMs` (one request at a time) until the returned stop is called. */
export function watchHealth(ready: CoreReady, everyMs = 100): () => Promise<HealthSummary> {
  const summary: HealthSummary = { probes: 0, failed: 0, maxMs: 0 }
  let running = true
  const loop = (async () => {
    while (running) {
      const { answer, ms } = await request(ready, '/api/v1/health')
      summary.probes++
      summary.maxMs = Math.max(summary.maxMs, ms)
      if (answer !== 200) {
        summary.failed++
        summary.firstFailure ??= answer
      }
      await sleep(everyMs)
    }
  })()
  return async () => {
    running = false
    await loop
    return summary
  }
}

/** RSS of the core once it has settled after start: what "2× idle" is measured against. */
export async function idleRss(pid: number, settleMs = 1_000): Promise<number> {
  await sleep(settleMs)
  return memoryOf(pid).rss
}

/** Open file descriptors of a live process. */
export function descriptorsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** The soft limit on open descriptors of a live process (`ulimit -n` as it applies to it). */
export function descriptorLimitOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))
  return Number(/^Max open files\s+(\d+)/.exec(line ?? '')?.[1])
}

/** `count` mqtt.js clients, connected in parallel; throws (closing the ones made) if any fails. */
export async function connectClients(url: string, count: number, prefix: string): Promise<MqttClient[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, k) =>
      mqtt.connectAsync(url, { clientId: `${prefix}-${k}`, reconnectPeriod: 0, connectTimeout: 10_000 }),
    ),
  )
  const clients = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) {
    await closeClients(clients)
    throw new Error(`${prefix}: ${(failed as PromiseRejectedResult).reason}`)
  }
  return clients
}

export async function closeClients(clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true)))
}

export const GB = 1e9
export const MB = 1e6
