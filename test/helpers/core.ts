import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import pino from 'pino'
import { type Core, createCore, type Ready } from '../../src-main/core/app'
import type { CoreOptions } from '../../src-main/core/config'

export function tempDir(prefix = 'edgetwin-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

export interface TestCore {
  core: Core
  ready: Ready
  dataDir: string
  /** fetch against the core's HTTP server; the bearer token is added unless `auth: false`. */
  http(pathname: string, init?: RequestInit & { auth?: boolean }): Promise<Response>
  /** GET returning parsed JSON; throws on a non-2xx answer. */
  json<T = unknown>(pathname: string): Promise<T>
  /** A connected mqtt.js client on the core's broker, ended by stop(). */
  client(options?: IClientOptions): Promise<MqttClient>
  stop(): Promise<void>
}

/**
 * Starts a real core (embedded aedes on port 0, SQLite in a temp dir, Fastify on port 0) with the
 * simulator off unless asked for. `stop()` ends clients, stops the core and removes the data dir
 * (unless it was given).
 */
export async function startCore(options: Partial<CoreOptions> = {}): Promise<TestCore> {
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? tempDir()
  const core = createCore({
    sim: false,
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: process.env.EDGETWIN_TEST_LOG ?? 'silent' }),
    ...options,
    dataDir,
  })
  const ready = await core.start()
  const clients: MqttClient[] = []
  const http = (pathname: string, init: RequestInit & { auth?: boolean } = {}) => {
    const { auth = true, ...rest } = init
    const headers = new Headers(rest.headers)
    if (auth) headers.set('authorization', `Bearer ${ready.token}`)
    return fetch(new URL(pathname, ready.http), { ...rest, headers })
  }
  return {
    core,
    ready,
    dataDir,
    http,
    async json<T>(pathname: string) {
      const response = await http(pathname)
      if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`)
      return (await response.json()) as T
    },
    async client(clientOptions = {}) {
      const client = await mqtt.connectAsync(ready.mqtt, { reconnectPeriod: 0, ...clientOptions })
      clients.push(client)
      return client
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)))
      await core.stop()
      if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Collects messages on a filter; `next(predicate)` resolves with the first matching one. */
export async function collect(client: MqttClient, filter: string) {
  const messages: Array<{ topic: string; payload: string; retain: boolean }> = []
  const waiters: Array<{
    test: (m: (typeof messages)[number]) => boolean
    resolve: (m: (typeof messages)[number]) => void
  }> = []
  client.on('message', (topic, payload, packet) => {
    const message = { topic, payload: payload.toString(), retain: packet.retain }
    messages.push(message)
    for (const waiter of [...waiters]) {
      if (waiter.test(message)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(message)
      }
    }
  })
  await client.subscribeAsync(filter, { qos: 1 })
  return {
    messages,
    next(test: (m: (typeof messages)[number]) => boolean, timeoutMs = 5000) {
      const found = messages.find(test)
      if (found) return Promise.resolve(found)
      return new Promise<(typeof messages)[number]>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no message on ${filter} matched within ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          test,
          resolve: (m) => {
            clearTimeout(timer)
            resolve(m)
          },
        })
      })
    },
  }
}
