import type { Logger } from 'pino'
import type { Bus, BusMessage } from '../broker/bus'
import type { BatchWriter } from '../store/writer'
import type { AlarmStore } from '../telemetry/alarm-store'
import type { EventStore } from '../telemetry/event-store'
import {
  parseAlarm,
  parseEvent,
  parseHealth,
  parseJson,
  parseJsonObject,
  parseMeasurement,
  twinKeyError,
} from '../telemetry/payload'
import type { SeriesStore } from '../telemetry/series-store'
import {
  type Channel,
  defaultEntityType,
  errorsTopic,
  formatTopic,
  isDefaultScheme,
  type ParsedTopic,
  parseTopic,
} from '../topics'
import type { Change } from '../twin/changes'
import type { EntityStore } from '../twin/entity-store'
import { type EntityLimits, Registrar } from './registrar'
import { RejectionReporter } from './rejections'

export interface IngestDeps {
  bus: Bus
  writer: BatchWriter
  entities: EntityStore
  series: SeriesStore
  events: EventStore
  alarms: AlarmStore
  logger: Logger
  topicRoot: string
  autoRegister: boolean
  limits: EntityLimits
  /** Receive time for data without its own `time`: epoch ms, strictly increasing. */
  stamp: () => number
  notify: (change: Change) => void
  /** Answers `cmd/health/check` for the core's own service. */
  onHealthCheck: (entity: string) => void
  /**
   * Why the store cannot take data from devices now (the disk is full), or undefined. Their messages
   * are then refused rather than acknowledged; the core's own are still taken.
   */
  refusal: () => string | undefined
  /** Every other command message (reference §3.1), with its publisher's client id; returns a rejection reason. */
  onCommand: (
    entity: string,
    operation: string,
    cmdId: string,
    payload: Buffer,
    client: string | undefined,
  ) => string | undefined
}

/** Channels whose data makes an unknown default-scheme entity auto-register (reference §1.6). */
const AUTO_REGISTER_CHANNELS = new Set<Channel['kind']>([
  'twin',
  'config',
  'measurement',
  'measurement-meta',
  'event',
  'event-meta',
  'alarm',
  'alarm-meta',
  'capability',
  'health',
  'status',
])

/**
 * Data for an entity not registered yet is held and replayed when it is: this many messages per
 * entity, entities, and payload bytes in all (a few large messages must not hold the heap).
 */
const HELD_PER_ENTITY = 100
const HELD_ENTITIES = 1000
const HELD_BYTES = 16 * 1024 * 1024
const TOPIC_CACHE_SIZE = 10_000
/** Longer topics are parsed each time: the cache holds the topics connectors repeat, not a flood of huge ones. */
const CACHED_TOPIC_LENGTH = 512

export interface IngestStats {
  received: number
  rejected: number
  /** Messages refused unstored (and unacknowledged) because the store could not take them. */
  refused: number
  values: number
}

/**
 * The thin-edge.io local API: every message on the bus passes here once, is validated, applied to
 * the twin and queued for the store. Invalid input is reported (log + `te/errors`) and dropped;
 * nothing here throws back into the broker.
 */
export class Ingest {
  readonly stats: IngestStats = { received: 0, rejected: 0, refused: 0, values: 0 }
  readonly registrar: Registrar
  private readonly held = new Map<string, BusMessage[]>()
  private heldBytes = 0
  private readonly topics = new Map<string, ParsedTopic | string | undefined>()
  private readonly rejections: RejectionReporter

  constructor(private readonly deps: IngestDeps) {
    this.rejections = new RejectionReporter(deps.logger, (text) =>
      deps.bus.publish(errorsTopic(deps.topicRoot), text, { qos: 0 }),
    )
    this.registrar = new Registrar(
      deps,
      (entity) => this.releaseHeld(entity),
      (entity, reason) => this.reject(formatTopic(entity, { kind: 'registration' }, deps.topicRoot), reason),
    )
  }

  stop(): void {
    this.rejections.stop()
  }

  /**
   * Applies registrations the broker kept but the twin lacks: those still waiting for their parent
   * when the core stopped live only in memory and in the broker's retained store.
   */
  async restoreRegistrations(): Promise<void> {
    const { bus, topicRoot, entities } = this.deps
    for (const { topic, payload } of await bus.retained(`${topicRoot}/+/+/+/+`)) {
      const entity = topic.slice(topicRoot.length + 1)
      if (!entities.has(entity))
        this.handle({ topic, payload, retain: true, qos: 0, replay: true, fromCore: true }, () => {})
    }
  }

  /** Entry point for the bus; `done` releases the sender's acknowledgement once stored. */
  readonly handle = (message: BusMessage, done: (error?: Error) => void): void => {
    this.stats.received++
    const refusal = message.fromCore ? undefined : this.deps.refusal()
    if (refusal) {
      // Not stored, so not acknowledged: the broker drops the connection and the device sends again.
      this.stats.refused++
      this.rejections.report(message.topic, refusal)
      done(new Error(refusal))
      return
    }
    let error: string | undefined
    try {
      error = this.apply(message)
    } catch (unexpected) {
      error = `internal error: ${(unexpected as Error).message}`
      this.deps.logger.error({ err: unexpected, topic: message.topic }, 'ingest failed')
    }
    if (error) this.reject(message.topic, error)
    if (message.qos > 0) this.deps.writer.afterCommit(done, true)
    else done()
  }

  reject(topic: string, reason: string): void {
    this.stats.rejected++
    this.rejections.report(topic, reason)
  }

  /**
   * The parsed topic, or the reason it is invalid. Connectors publish on the same few topics over
   * and over, so parses are remembered (a bounded cache, emptied when full).
   */
  private parse(topic: string): ParsedTopic | string | undefined {
    const cached = this.topics.get(topic)
    if (cached !== undefined || this.topics.has(topic)) return cached
    let parsed: ParsedTopic | string | undefined
    try {
      parsed = parseTopic(topic, this.deps.topicRoot)
    } catch (error) {
      parsed = (error as Error).message
    }
    if (topic.length > CACHED_TOPIC_LENGTH) return parsed
    if (this.topics.size >= TOPIC_CACHE_SIZE) this.topics.clear()
    this.topics.set(topic, parsed)
    return parsed
  }

  /** Applies one message; returns the reason when it is rejected. */
  private apply(message: BusMessage): string | undefined {
    const { entities } = this.deps
    const parsed = this.parse(message.topic)
    if (typeof parsed === 'string') return parsed
    if (!parsed) return undefined
    const { entity, channel } = parsed
    if (channel.kind === 'registration') return this.registrar.handle(entity, message.payload)
    if (!entities.has(entity)) {
      // An empty payload clears something of an entity we do not know: nothing to do.
      if (message.payload.length === 0 || !AUTO_REGISTER_CHANNELS.has(channel.kind)) return undefined
      if (this.deps.autoRegister && isDefaultScheme(entity) && defaultEntityType(entity) !== 'device') {
        const refused = this.registrar.autoRegister(entity, message.client)
        if (refused) return refused
      } else {
        return this.hold(entity, message)
      }
    }
    // Last seen is what the entity does, the ground of its health (health/derived-health.ts): not a
    // retained message a broker delivers again on subscribe, nor what the core itself publishes
    // (its commands, its alarm acknowledgements).
    const own = message.fromCore === true && message.client === undefined
    if (!message.replay && !own) this.deps.entities.seen(entity, Date.now())
    return this.applyData(entity, channel, message)
  }

  private applyData(entity: string, channel: Channel, message: BusMessage): string | undefined {
    const { entities, series, events, alarms, notify, stamp, writer } = this.deps
    const payload = message.payload
    const record = entities.get(entity)
    if (!record) return `entity "${entity}" is not registered`
    switch (channel.kind) {
      case 'measurement': {
        const parsed = parseMeasurement(payload, channel.type)
        if (!parsed.ok) return parsed.reason
        const { type, names, values } = parsed.value
        const time = parsed.value.time ?? stamp()
        series.add(record.id, type, time, names, values)
        this.stats.values += values.length
        writer.touched(series.buffered)
        notify({ kind: 'measurement', entity, type, time, names, values })
        return undefined
      }
      case 'event': {
        const parsed = parseEvent(payload, channel.type)
        if (!parsed.ok) return parsed.reason
        const { type, text } = parsed.value
        const stored = events.add(record.id, type, parsed.value.time ?? stamp(), text, parsed.value.payload)
        notify({
          kind: 'event',
          entity,
          id: stored.id,
          type,
          time: stored.time,
          text,
          payload: parsed.value.payload,
        })
        return undefined
      }
      case 'alarm': {
        if (payload.length === 0) {
          const cleared = alarms.clear(record.id, channel.type, Date.now(), 'device')
          if (cleared) notify({ kind: 'alarm', entity, alarm: cleared })
          return undefined
        }
        const parsed = parseAlarm(payload, channel.type)
        if (!parsed.ok) return parsed.reason
        const { type, severity, text } = parsed.value
        const time = parsed.value.time ?? stamp()
        const changed = alarms.raise(
          record.id,
          { type, severity, text, time, payload: parsed.value.payload },
          message.replay,
        )
        // The raised alarm, and maybe the first-out of its burst (on another entity of the line).
        for (const alarm of changed)
          notify({ kind: 'alarm', entity: entities.byId(alarm.entityId)?.topicId ?? entity, alarm })
        return undefined
      }
      case 'twin': {
        const keyError = twinKeyError(channel.key)
        if (keyError) return keyError
        if (payload.length === 0) {
          entities.setTwin(entity, channel.key, undefined)
          return undefined
        }
        const parsed = parseJson(payload)
        if (!parsed.ok) return parsed.reason
        entities.setTwin(entity, channel.key, parsed.value)
        return undefined
      }
      case 'health': {
        if (payload.length === 0) return undefined
        const parsed = parseHealth(payload)
        if (!parsed.ok) return parsed.reason
        entities.setHealth(entity, parsed.value.status, parsed.value.payload)
        return undefined
      }
      case 'measurement-meta':
      case 'event-meta':
      case 'alarm-meta': {
        const letter = channel.kind === 'measurement-meta' ? 'm' : channel.kind === 'event-meta' ? 'e' : 'a'
        if (payload.length === 0) {
          entities.setMeta(entity, letter, channel.type, undefined)
          return undefined
        }
        const parsed = parseJsonObject(payload)
        if (!parsed.ok) return parsed.reason
        entities.setMeta(entity, letter, channel.type, parsed.value)
        return undefined
      }
      case 'capability':
      case 'config': {
        let value: unknown
        if (payload.length > 0) {
          const parsed = parseJsonObject(payload)
          if (!parsed.ok) return parsed.reason
          value = parsed.value
        }
        if (channel.kind === 'config') entities.setConfig(entity, value)
        else entities.setCapability(entity, channel.operation, value)
        return undefined
      }
      case 'command':
        // Reference §9: `cmd/health/check` is the one non-retained command, with a fixed id.
        if (channel.operation === 'health' && channel.cmdId === 'check') {
          this.deps.onHealthCheck(entity)
          return undefined
        }
        return this.deps.onCommand(entity, channel.operation, channel.cmdId, payload, message.client)
      case 'signal':
      case 'status':
        return undefined
    }
  }

  /** Keeps data for an entity that is not registered (yet); replayed when its registration arrives. */
  private hold(entity: string, message: BusMessage): string | undefined {
    let queue = this.held.get(entity)
    if (!queue) {
      if (this.held.size >= HELD_ENTITIES) {
        return `entity "${entity}" is not registered (and too many unregistered entities are waiting)`
      }
      queue = []
      this.held.set(entity, queue)
    }
    if (queue.length >= HELD_PER_ENTITY) {
      this.heldBytes -= queue.shift()?.payload.length ?? 0
      this.deps.logger.debug({ entity }, 'dropping oldest message held for an unregistered entity')
    }
    if (this.heldBytes + message.payload.length > HELD_BYTES) {
      if (queue.length === 0) this.held.delete(entity)
      return `entity "${entity}" is not registered (and the data held for unregistered entities is at its limit)`
    }
    this.heldBytes += message.payload.length
    // A copy: the payload may be a view of the socket's whole read buffer, which it would keep alive.
    queue.push({ ...message, payload: Buffer.from(message.payload) })
    this.deps.logger.debug({ entity, topic: message.topic }, 'holding message until the entity is registered')
    return undefined
  }

  private releaseHeld(entity: string): void {
    const queue = this.held.get(entity)
    if (!queue) return
    this.held.delete(entity)
    for (const message of queue) this.heldBytes -= message.payload.length
    for (const message of queue) this.handle({ ...message, fromCore: true }, () => {})
  }
}
