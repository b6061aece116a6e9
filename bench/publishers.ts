import { setImmediate as yieldToLoop } from 'node:timers/promises'
import mqtt, { type MqttClient } from 'mqtt'
import { sleep } from './processes'

/** Numeric values per message (V). */
export const VALUES_PER_MESSAGE = 10
const NAMES = 'abcdefghijklmnopqrstuvwxyz'.slice(0, VALUES_PER_MESSAGE).split('')
/** Messages written per client before waiting for the socket to take them (backpressure). */
const BURST = 256
/** Distinct payloads per client, cycled; building them is outside every timed section. */
const POOL = 1024

export const benchEntity = (k: number) => `device/bench-${k}//`
export const benchTopic = (k: number) => `te/${benchEntity(k)}/m/env`

export interface Publishers {
  clients: MqttClient[]
  close(): Promise<void>
}

/** P mqtt.js clients over TCP (QoS 0 publishers, clean sessions, no reconnect). */
export async function connectPublishers(url: string, count: number, name: string): Promise<Publishers> {
  const clients: MqttClient[] = []
  const close = () => Promise.all(clients.map((c) => c.endAsync(true))).then(() => undefined)
  try {
    for (let k = 0; k < count; k++) {
      clients.push(
        await mqtt.connectAsync(url, {
          clientId: `${name}-${k}`,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        }),
      )
    }
  } catch (error) {
    await close()
    throw error
  }
  return { clients, close }
}

/** `{"a":12.34,…}` with V values; the same shape as a thin-edge.io measurement without `time`. */
export function measurement(seed: number, time?: number): string {
  const fields = NAMES.map(
    (name, i) => `"${name}":${(((seed * 7919 + i * 104729) % 100_000) / 100).toFixed(2)}`,
  )
  if (time !== undefined) fields.push(`"time":${(time / 1000).toFixed(6)}`)
  return `{${fields.join(',')}}`
}

export function payloadPool(k: number): Buffer[] {
  return Array.from({ length: POOL }, (_, i) => Buffer.from(measurement(k * POOL + i)))
}

export interface BurstResult {
  sent: number
  /** performance.now() just before the first publish and after the last one was taken by the socket. */
  firstAt: number
  lastAt: number
}

/**
 * Every client publishes `perClient` messages from its payload pool as fast as its socket takes them:
 * bursts of BURST, then wait for the last publish's callback (mqtt.js calls it once the write has
 * been accepted, i.e. after 'drain' when the socket buffer was full).
 */
export async function publishFlat(
  publishers: Publishers,
  perClient: number,
  pools: Buffer[][],
  topic: (k: number) => string = benchTopic,
): Promise<BurstResult> {
  const firstAt = performance.now()
  const pump = async (client: MqttClient, k: number) => {
    const pool = pools[k] as Buffer[]
    const to = topic(k)
    let i = 0
    while (i < perClient) {
      const end = Math.min(perClient, i + BURST)
      await new Promise<void>((resolve, reject) => {
        for (; i < end - 1; i++) client.publish(to, pool[i % POOL] as Buffer, { qos: 0 })
        client.publish(to, pool[i % POOL] as Buffer, { qos: 0 }, (error) =>
          error ? reject(error) : resolve(),
        )
        i++
      })
      await yieldToLoop()
    }
  }
  await Promise.all(publishers.clients.map(pump))
  return { sent: perClient * publishers.clients.length, firstAt, lastAt: performance.now() }
}

/**
 * Every client publishes at `ratePerClient` messages/s for `seconds`, each message built at send time
 * by `build`. Catches up on timer jitter so the average rate holds.
 */
export async function publishPaced(
  publishers: Publishers,
  ratePerClient: number,
  seconds: number,
  build: (k: number, i: number) => string,
  topic: (k: number) => string = benchTopic,
): Promise<number> {
  let total = 0
  const pace = async (client: MqttClient, k: number) => {
    const to = topic(k)
    const start = performance.now()
    const count = Math.round(ratePerClient * seconds)
    let i = 0
    while (i < count) {
      const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * ratePerClient))
      for (; i < due; i++) client.publish(to, build(k, i), { qos: 0 })
      await sleep(5)
    }
    total += count
  }
  await Promise.all(publishers.clients.map(pace))
  return total
}
