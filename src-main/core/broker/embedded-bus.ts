import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { Aedes, type Client, type PublishPacket } from 'aedes'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import { type Exposure, FrontDoor, loopbackFor, urlHost } from '../exposure'
import { BrokerAccess } from './access'
import type { BrokerStats, Bus, BusHandler, PublishOptions } from './bus'
import { holdUntilResumed, publishInOrder } from './delivery-order'
import { type MqttLimits, resolveLimits } from './limits'
import { guardStream } from './packet-guard'
import { RefusalLog } from './refusals'
import { createSqlitePersistence } from './sqlite-persistence'

type Done = (error?: Error) => void

export interface EmbeddedBusOptions {
  db: Database
  host: string
  port: number
  logger: Logger
  limits?: Partial<MqttLimits>
  /** TLS and MQTT users for clients beyond loopback; required when `host` is not loopback. */
  exposure?: Exposure
  /** Reports a client's message refused for a reason its client can be told (on te/errors). */
  reject?: (topic: string, reason: string) => void
}

/** How long a TLS client may take to finish its handshake, in ms (aedes' CONNECT timeout starts after). */
const TLS_HANDSHAKE_MS = 10_000

/**
 * The embedded aedes broker. Every publish from a client (and every will) passes `authorizePublish`
 * before aedes writes the PUBACK (aedes lib/handlers/publish.js), so holding its callback until the
 * ingest batch has committed makes a PUBACK mean "stored" (DESIGN §4).
 */
export class EmbeddedBus implements Bus {
  private broker: Aedes | undefined
  private door: FrontDoor | undefined
  private handler: BusHandler | undefined
  private persistence: ReturnType<typeof createSqlitePersistence> | undefined
  readonly limits: MqttLimits
  private readonly refusals: RefusalLog

  constructor(private readonly options: EmbeddedBusOptions) {
    this.limits = resolveLimits(options.limits)
    this.refusals = new RefusalLog(options.logger.child({ component: 'mqtt' }))
  }

  get connected(): boolean {
    return this.door !== undefined
  }

  get stats(): BrokerStats {
    return {
      connections: this.door?.connections ?? 0,
      maxConnections: this.limits.maxConnections,
      retainedBytes: this.persistence?.asyncPersistence.retainedBytes ?? 0,
      refused: { ...this.refusals.counts },
    }
  }

  async start(handler: BusHandler): Promise<string> {
    this.handler = handler
    const { db, host, port, logger, exposure } = this.options
    const { limits, refusals } = this
    const persistence = createSqlitePersistence(db, {
      maxQueuedMessages: limits.maxQueuedMessages,
      onQueueFull: (clientId) =>
        refusals.note(
          'queue',
          `the queue of a persistent session holds ${limits.maxQueuedMessages} messages`,
          {
            client: clientId,
          },
        ),
    })
    this.persistence = persistence
    const access = new BrokerAccess({
      limits,
      refusals,
      persistence: () => this.persistence?.asyncPersistence,
      passwords: exposure?.passwords,
      clientCertificates: exposure?.clientCertificates ?? false,
    })
    // Messages aedes must not publish itself: published early (below), or refused with an acknowledgement.
    const skipped = new WeakSet<PublishPacket>()
    // aedes 1.2 writes a QoS 1 PUBACK first and publishes afterwards (lib/handlers/publish.js), so the
    // retained copy and the queues of offline persistent sessions would be stored after the ack and
    // lost to a crash in between. A QoS 1 message is published here instead, before the ack, and aedes'
    // own publish of that same packet is skipped. (QoS 2 publishes before its PUBREC already.)
    // No fixed broker id: after a crash, a new id is what makes aedes publish the old broker's wills,
    // and it keeps new message counters apart from the ones of messages still queued.
    const broker = new Aedes({
      persistence,
      authenticate: access.authenticate,
      authorizeSubscribe: access.authorizeSubscribe,
      authorizePublish: (client, packet, callback) => {
        // aedes' own default refuses these, as $SYS topics are the broker's [MQTT-4.7.2-1].
        if (client && packet.topic.startsWith('$SYS/')) {
          refusals.note('protocol', 'PUBLISH to a $SYS topic', { client: client.id, topic: packet.topic })
          return callback(new Error('$SYS topics are reserved'))
        }
        const retainedError = client ? access.retainedError(packet) : undefined
        if (retainedError) {
          // A valid message the broker will not keep: acknowledged (MQTT 3.1.1 has no negative
          // acknowledgement, and without one the client would send it again forever), not published,
          // and the reason reported on te/errors, as the ingest does for what it refuses.
          refusals.note('retained', retainedError, { client: client?.id, topic: packet.topic })
          this.options.reject?.(packet.topic, retainedError)
          skipped.add(packet)
          return callback(null)
        }
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
            skipped.add(packet)
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
      if (skipped.delete(packet)) return process.nextTick(() => callback())
      publish(packet, typeof client === 'function' ? null : client, callback)
    }) as Aedes['publish']
    await broker.listen()
    broker.on('clientError', (client, error) =>
      logger.debug({ client: client.id, err: error.message }, 'mqtt client error'),
    )
    broker.on('connectionError', (_client, error) =>
      logger.debug({ err: error.message }, 'mqtt connection error'),
    )
    broker.on('unsubscribe', access.unsubscribed)
    this.broker = broker

    const handle = (stream: Duplex, address: string | undefined) => {
      guardStream(
        stream,
        { maxPacketSize: limits.maxPacketSize, maxFilters: limits.maxSubscriptions },
        ({ kind, reason }) => refusals.note(kind, reason, { address }),
      )
      holdUntilResumed(broker.handle(stream), (clientId, packet) =>
        persistence.asyncPersistence.outgoingUnsent(clientId, packet),
      )
    }
    const secure =
      exposure &&
      tls.createServer(
        {
          ...exposure.tls,
          // A certificate is asked for but not required: clients with a password have none.
          requestCert: exposure.clientCertificates,
          rejectUnauthorized: false,
          handshakeTimeout: TLS_HANDSHAKE_MS,
          minVersion: 'TLSv1.2',
        },
        (socket) => handle(socket, socket.remoteAddress),
      )
    secure?.on('tlsClientError', (error, socket) =>
      refusals.note('tls', error.message, { address: socket.remoteAddress }),
    )
    const door = new FrontDoor({
      what: 'MQTT',
      flag: '--mqtt-port',
      host,
      port,
      admit: (socket, open) => {
        if (open >= limits.maxConnections) {
          refusals.note('connection limit', `${limits.maxConnections} connections are open`, {
            address: socket.remoteAddress,
          })
          return false
        }
        // aedes writes packet by packet (a SUBACK, then each retained message): with Nagle's algorithm a
        // small write after another waits for the peer's delayed ACK, 40 ms on Linux.
        socket.setNoDelay(true)
        return true
      },
      local: (socket) => {
        access.trust(socket)
        handle(socket, socket.remoteAddress)
      },
      secure,
    })
    this.door = door
    const listening = await door.listen()
    // The core's own clients connect over loopback, whatever --host is.
    return `mqtt://${urlHost(loopbackFor(host), listening)}`
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
    const { door, broker, persistence } = this
    this.door = undefined
    this.broker = undefined
    this.persistence = undefined
    this.refusals.stop()
    door?.close()
    // aedes never destroys its persistence; the database is closed by the core afterwards.
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()))
    await persistence?.destroy()
  }
}
