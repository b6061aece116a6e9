import { connectAsync, type MqttClient } from 'mqtt'
import { formatTopic } from '../topics'
import type { SimLogger, SimStats } from './logger'
import type { SimService } from './topology'

export interface ServiceClientOptions {
  url: string
  root: string
  clientId: string
  service: SimService
  pid: number
  logger: SimLogger
  stats: SimStats
  /** Extra subscriptions (QoS 1) and their handler, for a service that takes commands: a child tedge-agent. */
  subscriptions?: string[]
  onMessage?: (topic: string, payload: Buffer, retained: boolean) => void
  /** Called after each (re)announcement, to re-publish what else the service owns. */
  onAnnounce?: () => Promise<void>
}

const RETAINED = { qos: 1, retain: true } as const

/**
 * One simulated service as its own MQTT client, because thin-edge.io ties a service's health to the
 * client's Last Will (reference §2.7): the broker publishes `down` if the process dies.
 */
export class ServiceClient {
  private client: MqttClient | undefined
  private readonly registrationTopic: string
  private readonly healthTopic: string
  private readonly checkTopics: string[]
  private status: 'up' | 'down' = 'up'

  constructor(private readonly options: ServiceClientOptions) {
    const { root, service } = options
    this.registrationTopic = formatTopic(service.id, { kind: 'registration' }, root)
    this.healthTopic = formatTopic(service.id, { kind: 'health' }, root)
    // A check addressed to the service itself or to every service of its device (reference §2.7).
    const check = { kind: 'command', operation: 'health', cmdId: 'check' } as const
    this.checkTopics = [formatTopic(service.id, check, root), formatTopic(service.parent, check, root)]
  }

  /** The entity the service runs on. */
  get parent(): string {
    return this.options.service.parent
  }

  async start(): Promise<void> {
    const { url, clientId, pid, logger } = this.options
    const client = await connectAsync(
      url,
      {
        clientId,
        reconnectPeriod: 1000,
        queueQoSZero: false,
        will: {
          topic: this.healthTopic,
          payload: Buffer.from(JSON.stringify({ pid, status: 'down' })),
          ...RETAINED,
        },
      },
      false,
    )
    this.client = client
    client.on('error', (err) => logger.warn({ err, clientId }, 'simulated service MQTT error'))
    // After a reconnect the broker may have fired our Last Will, so say we are up again.
    client.on('connect', () => void this.announce())
    client.on('message', (topic, payload, packet) => {
      // A service that is down (its device rebooting) cannot answer a health check.
      if (this.checkTopics.includes(topic)) {
        if (this.status === 'up') void this.publishHealth('up')
        return
      }
      this.options.onMessage?.(topic, payload, packet.retain)
    })
    await client.subscribeAsync(this.checkTopics, { qos: 0 })
    await this.announce()
    const { subscriptions = [] } = this.options
    if (subscriptions.length > 0) await client.subscribeAsync(subscriptions, { qos: 1 })
  }

  /**
   * The service stops or comes back while its connection stays (the device reboots in the simulation):
   * the same `down` a Last Will would carry, then `up` with the time it came back.
   */
  setHealth(status: 'up' | 'down'): Promise<void> {
    this.status = status
    return this.publishHealth(status)
  }

  /** Retained, QoS 1: the service's state messages. */
  publish(topic: string, payload: string): Promise<void> {
    return this.publishOn(topic, payload)
  }

  /** Says `down` gracefully, then disconnects (a clean disconnect does not fire the Last Will). */
  async stop(): Promise<void> {
    const client = this.client
    if (!client) return
    this.client = undefined
    if (client.connected) await this.publishHealth('down', client)
    await client.endAsync(!client.connected)
  }

  private async announce(): Promise<void> {
    const { service } = this.options
    const registration = {
      '@type': 'service',
      '@parent': service.parent,
      name: service.name,
      type: 'service',
    }
    await this.publish(this.registrationTopic, JSON.stringify(registration))
    await this.publishHealth(this.status)
    await this.options.onAnnounce?.()
  }

  private publishHealth(status: 'up' | 'down', client = this.client): Promise<void> {
    const { pid } = this.options
    // `time` in unix seconds, thin-edge.io's default `service.timestamp_format`.
    const payload = { pid, status, time: Math.floor(Date.now() / 1000) }
    return this.publishOn(this.healthTopic, JSON.stringify(payload), client)
  }

  private async publishOn(topic: string, payload: string, client = this.client): Promise<void> {
    if (!client) return
    try {
      this.options.stats.published++
      await client.publishAsync(topic, payload, RETAINED)
    } catch (err) {
      this.options.logger.warn({ err, topic }, 'simulated service could not publish')
    }
  }
}
