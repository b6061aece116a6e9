import { connectAsync, type MqttClient } from 'mqtt'
import { formatTopic, MAIN_DEVICE } from '../topics'
import type { SimLogger, SimStats } from './logger'
import { createPrng, type Prng } from './prng'

export interface LoadGeneratorOptions {
  url: string
  root: string
  seed: number
  devices: number
  /** Measurement messages per second per device. */
  rate: number
  clientPrefix: string
  logger: SimLogger
  stats: SimStats
}

/** A handful of connections is enough for throughput; thousands of devices need not mean thousands of sockets. */
const MAX_CLIENTS = 4
/** Behind by more than this, the generator drops the backlog rather than bursting it. */
const MAX_BACKLOG_S = 1

const SERIES = [
  { name: 'temperature', unit: '°C', base: 45, step: 0.4, min: -20, max: 120 },
  { name: 'pressure', unit: 'bar', base: 4, step: 0.05, min: 0, max: 16 },
  { name: 'flow', unit: 'L/min', base: 30, step: 0.5, min: 0, max: 100 },
  { name: 'voltage', unit: 'V', base: 230, step: 0.6, min: 200, max: 250 },
  { name: 'current', unit: 'A', base: 6, step: 0.1, min: 0, max: 20 },
] as const

/**
 * Load mode: N flat child devices under main, each publishing one 5-value measurement at `rate` Hz.
 * Messages go out in a fixed device order spread evenly over time, so no two devices burst together.
 */
export class LoadGenerator {
  private clients: MqttClient[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly ids: string[]
  private readonly measurementTopics: string[]
  private values: Float64Array
  private rng: Prng
  private startedAt = 0
  private sent = 0
  private dropped = 0

  constructor(private readonly options: LoadGeneratorOptions) {
    const { devices, root } = options
    this.ids = Array.from({ length: devices }, (_, i) => `device/load-${String(i + 1).padStart(4, '0')}//`)
    this.measurementTopics = this.ids.map((id) =>
      formatTopic(id, { kind: 'measurement', type: 'load' }, root),
    )
    this.values = new Float64Array(0)
    this.rng = createPrng(0)
  }

  async start(): Promise<void> {
    const { url, devices, rate, clientPrefix, logger, root } = this.options
    this.rng = createPrng(this.options.seed ^ 0x10ad)
    this.values = new Float64Array(devices * SERIES.length)
    for (let d = 0; d < devices; d++) {
      SERIES.forEach((s, k) => {
        this.values[d * SERIES.length + k] = s.base + (this.rng.next() - 0.5) * s.base * 0.1
      })
    }
    this.sent = 0
    this.dropped = 0

    const count = Math.min(MAX_CLIENTS, devices)
    const results = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const clientId = `${clientPrefix}-load-${i}`
        const client = await connectAsync(
          url,
          { clientId, reconnectPeriod: 1000, queueQoSZero: false },
          false,
        )
        client.on('error', (err) => logger.warn({ err, clientId }, 'load client MQTT error'))
        return client
      }),
    )
    // Keep whatever connected so stop() can close it even when another connection failed.
    this.clients = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason

    const units = JSON.stringify(Object.fromEntries(SERIES.map((s) => [s.name, { unit: s.unit }])))
    const retained = { qos: 1, retain: true } as const
    await Promise.all(
      this.ids.map(async (id, d) => {
        const client = this.clientFor(d)
        const registration = {
          '@type': 'child-device',
          '@parent': MAIN_DEVICE,
          name: `Load ${id.split('/')[1]}`,
          type: 'LoadTestDevice',
        }
        await client.publishAsync(
          formatTopic(id, { kind: 'registration' }, root),
          JSON.stringify(registration),
          retained,
        )
        await client.publishAsync(
          formatTopic(id, { kind: 'measurement-meta', type: 'load' }, root),
          units,
          retained,
        )
        this.options.stats.published += 2
      }),
    )

    const perSecond = devices * rate
    // Small pumps for high rates keep the spread smooth; slow rates do not need a busy timer.
    const pumpMs = Math.max(5, Math.min(100, 1000 / perSecond))
    this.startedAt = performance.now()
    this.timer = setInterval(() => this.pump(perSecond), pumpMs)
    logger.info({ devices, rate, clients: count }, 'simulator load mode started')
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    if (this.dropped > 0) this.options.logger.warn({ dropped: this.dropped }, 'load mode could not keep up')
    const clients = this.clients
    this.clients = []
    await Promise.allSettled(clients.map((c) => c.endAsync(!c.connected)))
  }

  private pump(perSecond: number): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * perSecond)
    const backlogLimit = perSecond * MAX_BACKLOG_S
    if (due - this.sent > backlogLimit) {
      this.dropped += due - this.sent - backlogLimit
      this.sent = due - backlogLimit
    }
    const devices = this.ids.length
    const opts = { qos: 0, retain: false } as const
    while (this.sent < due) {
      const d = this.sent % devices
      this.sent++
      const client = this.clientFor(d)
      if (!client.connected) continue
      client.publish(this.measurementTopics[d] ?? '', this.payload(d), opts)
      this.options.stats.published++
    }
  }

  /** Five values on a mean-reverting random walk, written without intermediate objects. */
  private payload(device: number): string {
    const values = this.values
    const base = device * SERIES.length
    let json = '{'
    for (let k = 0; k < SERIES.length; k++) {
      const s = SERIES[k] as (typeof SERIES)[number]
      const i = base + k
      let v = values[i] ?? s.base
      v += (s.base - v) * 0.01 + (this.rng.next() - 0.5) * s.step
      v = Math.max(s.min, Math.min(s.max, v))
      values[i] = v
      json += `${k === 0 ? '' : ','}"${s.name}":${Math.round(v * 100) / 100}`
    }
    return `${json}}`
  }

  private clientFor(device: number): MqttClient {
    return this.clients[device % this.clients.length] as MqttClient
  }
}
