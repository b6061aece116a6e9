import { once } from 'node:events'
import net from 'node:net'
import { Aedes, type Client, type PublishPacket } from 'aedes'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import type { Bus, BusHandler, PublishOptions } from './bus'
import { holdUntilResumed, publishInOrder } from './delivery-order'
import { listenError } from './listen-error'
import { createSqlitePersistence } from './sqlite-persistence'

type Done = (error?: Error) => void

export interface EmbeddedBusOptions {
  db: Database
  host: string
  port: number
  logger: Logger
}

/**
 * The embedded aedes broker. Every publish from a client (and every will) passes `authorizePublish`
 * before aedes writes the PUBACK (aedes lib/handlers/publish.js), so holding its callback until the
 * ingest batch has committed makes a PUBACK mean "stored" (DESIGN §4).
 */
export class EmbeddedBus implements Bus {
  private broker: Aedes | undefined
  private server: net.Server | undefined
  private handler: BusHandler | undefined
  private persistence: ReturnType<typeof createSqlitePersistence> | undefined
  private readonly sockets = new Set<net.Socket>()

  constructor(private readonly options: EmbeddedBusOptions) {}

  get connected(): boolean {
    return this.server?.listening ?? false
  }

  async start(handler: BusHandler): Promise<string> {
    this.handler = handler
    const { db, host, port, logger } = this.options
    const persistence = createSqlitePersistence(db)
    this.persistence = persistence
    // aedes 1.2 writes a QoS 1 PUBACK first and publishes afterwards (lib/handlers/publish.js), so the
    // retained copy and the queues of offline persistent sessions would be stored after the ack and
    // lost to a crash in between. A QoS 1 message is published here instead, before the ack, and aedes'
    // own publish of that same packet is skipped. (QoS 2 publishes before its PUBREC already.)
    const publishedEarly = new WeakSet<PublishPacket>()
    // No fixed broker id: after a crash, a new id is what makes aedes publish the old broker's wills,
    // and it keeps new message counters apart from the ones of messages still queued.
    const broker = new Aedes({
      persistence,
      authorizePublish: (client, packet, callback) => {
        const message = {
          topic: packet.topic,
          payload: packet.payload as Buffer,
          retain: packet.retain,
          qos: packet.qos,
          replay: false,
          client: client?.id ?? undefined,
        }
        handler(message, (refused) => {
          // An error makes aedes close the connection without a PUBACK (MQTT 3.1.1 has no negative ack).
          if (refused) return callback(refused)
          if (packet.qos !== 1) return callback(null)
          publish(packet, client, (error) => {
            if (error) return callback(error)
            publishedEarly.add(packet)
            callback(null)
          })
        })
      },
    })
    // aedes itself calls broker.publish for clients' messages, wills and its $SYS topics, so with the core's
    // and the early one above, every publish goes through publishInOrder.
    const publish = publishInOrder(broker)
    broker.publish = ((packet: PublishPacket, client: Client | null | Done, done?: Done) => {
      const callback = (typeof client === 'function' ? client : done) ?? (() => {})
      if (publishedEarly.delete(packet)) return process.nextTick(() => callback())
      publish(packet, typeof client === 'function' ? null : client, callback)
    }) as Aedes['publish']
    await broker.listen()
    broker.on('clientError', (client, error) =>
      logger.debug({ client: client.id, err: error.message }, 'mqtt client error'),
    )
    broker.on('connectionError', (_client, error) =>
      logger.debug({ err: error.message }, 'mqtt connection error'),
    )
    this.broker = broker
    const server = net.createServer((socket) => {
      this.sockets.add(socket)
      // aedes writes packet by packet (a SUBACK, then each retained message): with Nagle's algorithm a small
      // write after another waits for the peer's delayed ACK, 40 ms on Linux.
      socket.setNoDelay(true)
      socket.once('close', () => this.sockets.delete(socket))
      holdUntilResumed(broker.handle(socket), (clientId, packet) =>
        persistence.asyncPersistence.outgoingUnsent(clientId, packet),
      )
    })
    this.server = server
    server.listen(port, host)
    // events.once rejects on 'error' by itself, so this one promise carries the listen failure.
    await once(server, 'listening').catch((error: NodeJS.ErrnoException) => {
      throw listenError(error, 'MQTT', host, port, '--mqtt-port')
    })
    const address = server.address() as net.AddressInfo
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${address.port}`
  }

  publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const broker = this.broker
    if (!broker || broker.closed) return Promise.resolve()
    const buffer = typeof payload === 'string' ? Buffer.from(payload) : payload
    const qos = options.qos ?? 0
    const retain = options.retain ?? false
    // The core's own publishes do not pass authorizePublish: hand them to the handler here so the
    // core sees every message on the bus exactly once.
    this.handler?.({ topic, payload: buffer, retain, qos, replay: false, fromCore: true }, () => {})
    return new Promise((resolve) => {
      broker.publish({ cmd: 'publish', topic, payload: buffer, qos, retain, dup: false }, (error) => {
        if (error) this.options.logger.warn({ topic, err: error.message }, 'publish failed')
        resolve()
      })
    })
  }

  async retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>> {
    const messages: Array<{ topic: string; payload: Buffer }> = []
    if (!this.persistence) return messages
    for await (const packet of this.persistence.createRetainedStream(filter)) {
      const { topic, payload } = packet as { topic: string; payload: Buffer | string }
      messages.push({ topic, payload: Buffer.from(payload) })
    }
    return messages
  }

  async stop(): Promise<void> {
    const { server, broker, persistence } = this
    this.server = undefined
    this.broker = undefined
    this.persistence = undefined
    if (server) {
      server.close()
      for (const socket of this.sockets) socket.destroy()
    }
    // aedes never destroys its persistence; the database is closed by the core afterwards.
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()))
    await persistence?.destroy()
  }
}
