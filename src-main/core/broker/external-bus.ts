import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { Bus, BusHandler, PublishOptions } from './bus'

export interface ExternalBusOptions {
  url: string
  clientId: string
  topicRoot: string
  logger: Logger
}

/**
 * Attaches to an existing broker (mosquitto, a thin-edge.io device). The core subscribes to the
 * whole root with a persistent session and acknowledges a QoS 1 message only once it is stored:
 * mqtt.js sends the PUBACK when `handleMessage` calls back.
 */
export class ExternalBus implements Bus {
  private client: MqttClient | undefined

  constructor(private readonly options: ExternalBusOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false
  }

  async start(handler: BusHandler): Promise<string> {
    const { url, clientId, topicRoot, logger } = this.options
    const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 1000, connectTimeout: 5000 })
    this.client = client
    client.handleMessage = (packet, callback) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
      handler(
        { topic: packet.topic, payload, retain: packet.retain, qos: packet.qos, replay: packet.retain },
        (refused) => {
          if (!refused) return callback()
          // Not stored: no PUBACK. Dropping the connection makes the broker deliver it again on the
          // persistent session once mqtt.js has reconnected.
          logger.warn({ topic: packet.topic, reason: refused.message }, 'message not stored; reconnecting')
          client.stream.destroy()
        },
      )
    }
    client.on('error', (error) => logger.warn({ url, err: error.message }, 'broker connection error'))
    client.on('offline', () => logger.warn({ url }, 'broker offline, reconnecting'))
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        client.end(true)
        reject(new Error(`cannot connect to broker ${url}: ${error.message}`))
      }
      client.once('error', fail)
      client.once('connect', () => {
        client.off('error', fail)
        resolve()
      })
    })
    await client.subscribeAsync(`${topicRoot}/#`, { qos: 1 })
    logger.info({ url }, 'attached to external broker')
    return url
  }

  async publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const client = this.client
    if (!client) return
    try {
      await client.publishAsync(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false })
    } catch (error) {
      this.options.logger.warn({ topic, err: (error as Error).message }, 'publish failed')
    }
  }

  async retained(): Promise<Array<{ topic: string; payload: Buffer }>> {
    return []
  }

  async stop(): Promise<void> {
    const client = this.client
    this.client = undefined
    if (client) await client.endAsync()
  }
}
