import type { Bus } from '../broker/bus'
import type { AlarmStore } from '../telemetry/alarm-store'
import type { EventStore } from '../telemetry/event-store'
import { type JsonObject, parseJsonObject, twinKeyError } from '../telemetry/payload'
import type { SeriesStore } from '../telemetry/series-store'
import { defaultParent, formatTopic, MAIN_DEVICE, normalizeEntityId, type TopicError } from '../topics'
import type { Entity, EntityStore, EntityType } from '../twin/entity-store'
import { ClientQuota } from './client-quota'
import { HeldRegistrations } from './held-registrations'

/** Bounds on the entity registry (CoreOptions and `serve` options of the same names). */
export interface EntityLimits {
  /** Entities registered, the main device and services included. */
  maxEntities: number
  /** Entities one MQTT client may auto-register by publishing data (since the core started). */
  maxAutoRegisteredPerClient: number
  /** Registrations waiting for their parent. */
  maxHeldRegistrations: number
}

interface RegistrarDeps {
  bus: Bus
  entities: EntityStore
  series: SeriesStore
  events: EventStore
  alarms: AlarmStore
  topicRoot: string
  limits: EntityLimits
  logger: { info(o: object, msg: string): void; debug(o: object, msg: string): void }
}

export interface Registration {
  topicId: string
  type: EntityType
  parent: string | undefined
  externalId: string | undefined
  healthEndpoint: string | undefined
  payload: JsonObject
}

const TYPES: EntityType[] = ['device', 'child-device', 'service']

export class RegistrationError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 409 = 400,
  ) {
    super(message)
  }
}

/**
 * Entity registration (reference §1.4–§1.6): explicit registrations, registrations held until their
 * parent arrives, auto-registration of the default scheme, and deregistration of whole subtrees with
 * their retained topics cleared.
 */
export class Registrar {
  /** Registrations whose parent is not registered yet. */
  private readonly held = new HeldRegistrations()
  private readonly quota = new ClientQuota()

  constructor(
    private readonly deps: RegistrarDeps,
    private readonly onRegistered: (entity: string) => void,
    /** A held registration refused once its parent arrived (the registry is full, a cycle, …). */
    private readonly onRejected: (entity: string, reason: string) => void = () => {},
  ) {}

  /** A registration message (`te/<id>` retained); empty payload deregisters. */
  handle(topicId: string, payload: Buffer): string | undefined {
    if (payload.length === 0) {
      this.deregisterAsync(topicId).catch((error) =>
        this.deps.logger.info(
          { entity: topicId, reason: (error as Error).message },
          'deregistration incomplete',
        ),
      )
      return undefined
    }
    const parsed = parseJsonObject(payload)
    if (!parsed.ok) return parsed.reason
    try {
      const registration = this.validate(topicId, parsed.value)
      if (!this.deps.entities.has(registration.parent ?? MAIN_DEVICE)) return this.hold(registration)
      // The bus echoes the message autoRegister() published; an unchanged payload keeps the entity auto-registered.
      const existing = this.deps.entities.get(topicId)
      const echo =
        existing?.autoRegistered === true &&
        JSON.stringify(existing.registration) === JSON.stringify(parsed.value)
      this.apply(registration, echo)
      return undefined
    } catch (error) {
      return (error as Error).message
    }
  }

  /** Checks a registration payload and fills in thin-edge.io's defaults for the parent. */
  validate(topicId: string, payload: JsonObject): Registration {
    const type = payload['@type']
    if (typeof type !== 'string' || !TYPES.includes(type as EntityType)) {
      throw new RegistrationError(`"@type" must be one of ${TYPES.join(', ')}`)
    }
    if ((type === 'device') !== (topicId === MAIN_DEVICE)) {
      throw new RegistrationError(
        type === 'device'
          ? `"@type": "device" is reserved for the main device ${MAIN_DEVICE}`
          : `${MAIN_DEVICE} is the main device`,
      )
    }
    const optionalId = (key: string): string | undefined => {
      const value = payload[key]
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw new RegistrationError(`"${key}" must be a string`)
      try {
        return normalizeEntityId(value)
      } catch (error) {
        throw new RegistrationError(`"${key}": ${(error as TopicError).message}`)
      }
    }
    const externalId = payload['@id']
    if (externalId !== undefined && typeof externalId !== 'string')
      throw new RegistrationError('"@id" must be a string')
    let parent = optionalId('@parent')
    const healthEndpoint = optionalId('@health')
    if (type === 'device') {
      if (parent) throw new RegistrationError('the main device has no parent')
    } else {
      parent ??= (type === 'service' ? defaultParent(topicId) : undefined) ?? MAIN_DEVICE
      if (parent === topicId) throw new RegistrationError('an entity cannot be its own parent')
    }
    const existing = this.deps.entities.get(topicId)
    if (existing) {
      if (existing.type !== type)
        throw new RegistrationError(`"@type" of ${topicId} cannot change from ${existing.type}`, 409)
      if (
        existing.externalId !== undefined &&
        externalId !== undefined &&
        existing.externalId !== externalId
      ) {
        throw new RegistrationError(`"@id" of ${topicId} cannot change`, 409)
      }
    }
    return { topicId, type, parent, externalId, healthEndpoint, payload } as Registration
  }

  /** Applies a validated registration whose parent is registered. */
  apply(registration: Registration, autoRegistered: boolean): Entity {
    const { entities, bus, topicRoot } = this.deps
    const parent = registration.parent && entities.get(registration.parent)
    if (registration.parent && !parent)
      throw new RegistrationError(`parent ${registration.parent} is not registered`)
    if (parent && parent.type === 'service') {
      throw new RegistrationError(`parent ${registration.parent} is a service; only devices have children`)
    }
    // A cycle can only come from moving an existing entity under one of its own descendants.
    if (
      registration.parent &&
      entities.subtree(registration.topicId).some((e) => e.topicId === registration.parent)
    ) {
      throw new RegistrationError(`${registration.parent} is a descendant of ${registration.topicId}`)
    }
    const existing = entities.get(registration.topicId)
    if (!existing) {
      const full = this.fullReason(1)
      if (full) throw new RegistrationError(full, 409)
    }
    // A registration applied supersedes one held for the same entity under another parent.
    this.held.drop(registration.topicId)
    const entity = entities.upsert({
      topicId: registration.topicId,
      type: registration.type,
      parent: registration.parent,
      externalId: registration.externalId ?? existing?.externalId,
      healthEndpoint: registration.healthEndpoint,
      registration: registration.payload,
      autoRegistered,
    })
    // Every non-reserved key is initial twin data, republished retained as twin/<key> (§1.4). A key that
    // cannot be a topic level (empty, "/", a wildcard) stays in the registration only.
    const twin = entities.twin(entity.topicId)
    for (const [key, value] of Object.entries(registration.payload)) {
      if (key.startsWith('@')) continue
      if (twinKeyError(key)) {
        this.deps.logger.info(
          { entity: entity.topicId, key },
          'registration key is not a valid twin key; not published',
        )
        continue
      }
      if (twin?.has(key) && JSON.stringify(twin.get(key)?.value) === JSON.stringify(value)) continue
      bus.publish(formatTopic(entity.topicId, { kind: 'twin', key }, topicRoot), JSON.stringify(value), {
        retain: true,
        qos: 1,
      })
    }
    this.onRegistered(entity.topicId)
    for (const child of this.held.release(entity.topicId)) this.tryApply(child)
    return entity
  }

  private tryApply(registration: Registration): void {
    try {
      this.apply(registration, false)
    } catch (error) {
      this.onRejected(registration.topicId, `held registration refused: ${(error as Error).message}`)
    }
  }

  /** Holds a registration until its parent arrives; returns the reason when too many wait already. */
  private hold(registration: Registration): string | undefined {
    const parent = registration.parent ?? MAIN_DEVICE
    const { maxHeldRegistrations } = this.deps.limits
    if (!this.held.has(registration.topicId) && this.held.size >= maxHeldRegistrations) {
      return `parent ${parent} is not registered and ${this.held.size} registrations already wait for their parent (the most held); register the parent first`
    }
    this.held.hold(registration, parent)
    // Debug only: a connector replaying a large hierarchy out of order holds many, one line each.
    this.deps.logger.debug(
      { entity: registration.topicId, parent },
      'registration held until its parent is registered',
    )
    return undefined
  }

  /** How many registrations wait for their parent. */
  get heldCount(): number {
    return this.held.size
  }

  /** The topic ids of the first `count` registrations waiting for their parent, oldest first. */
  heldSample(count: number): string[] {
    return this.held.sample(count)
  }

  /** Why `count` more entities cannot be registered, or undefined when there is room. */
  private fullReason(count: number): string | undefined {
    const { maxEntities } = this.deps.limits
    const size = this.deps.entities.size
    if (size + count <= maxEntities) return undefined
    return `the entity registry is full: ${size} entities registered, at most ${maxEntities}`
  }

  /**
   * Auto-registration for the default scheme (§1.6): a child device directly under main, a service
   * under its device (auto-registering the device first), each published retained as thin-edge.io does.
   * `client` is the MQTT client whose data triggers it (counted against its quota). Returns the reason
   * when the registry or the client's quota has no room.
   */
  autoRegister(topicId: string, client?: string): string | undefined {
    const parent = defaultParent(topicId) ?? MAIN_DEVICE
    const chain =
      topicId.split('/')[2] === 'service' && !this.deps.entities.has(parent) ? [parent, topicId] : [topicId]
    const full = this.fullReason(chain.length)
    if (full) return `${topicId} is not auto-registered: ${full}`
    const { maxAutoRegisteredPerClient } = this.deps.limits
    if (client !== undefined && this.quota.count(client) + chain.length > maxAutoRegisteredPerClient) {
      return `${topicId} is not auto-registered: this MQTT client has auto-registered ${this.quota.count(client)} entities, the most one client may; register entities explicitly`
    }
    try {
      for (const id of chain) {
        this.autoRegisterOne(id)
        if (client !== undefined) this.quota.add(client, id)
      }
    } catch (error) {
      // Its parent cannot have it (a service under a service): the data's reason, not a fault.
      if (error instanceof RegistrationError) return `${topicId} is not auto-registered: ${error.message}`
      throw error
    }
    return undefined
  }

  private autoRegisterOne(topicId: string): void {
    const [, device, kind, name] = topicId.split('/') as [string, string, string, string]
    const parent = defaultParent(topicId) ?? MAIN_DEVICE
    const payload =
      kind === 'service'
        ? { '@parent': parent, '@type': 'service', name }
        : { '@parent': MAIN_DEVICE, '@type': 'child-device', name: device }
    const registration = this.validate(topicId, payload)
    this.apply(registration, true)
    this.deps.logger.info({ entity: topicId }, 'auto-registered')
    this.deps.bus.publish(
      formatTopic(topicId, { kind: 'registration' }, this.deps.topicRoot),
      JSON.stringify(payload),
      {
        retain: true,
        qos: 1,
      },
    )
  }

  /**
   * Removes an entity with all its descendants and their data, then clears their retained topics,
   * descendants' data first and entity topics bottom-up (tedge entity_manager deregister_entity).
   */
  async deregisterAsync(topicId: string): Promise<Entity[]> {
    const removed = this.deregister(topicId)
    const { bus, topicRoot } = this.deps
    for (const entity of removed) {
      const prefix = formatTopic(entity.topicId, { kind: 'registration' }, topicRoot)
      for (const { topic } of await bus.retained(`${prefix}/#`)) {
        if (topic !== prefix) bus.publish(topic, '', { retain: true, qos: 1 })
      }
    }
    return removed
  }

  private deregister(topicId: string): Entity[] {
    this.held.drop(topicId)
    const { entities, series, events, alarms, bus, topicRoot } = this.deps
    if (topicId === MAIN_DEVICE) return []
    const subtree = entities.subtree(topicId)
    if (subtree.length === 0) return []
    const bottomUp = [...subtree].reverse()
    const retained: string[] = []
    for (const entity of bottomUp) {
      const id = entity.topicId
      const topic = (channel: Parameters<typeof formatTopic>[1]) => formatTopic(id, channel, topicRoot)
      for (const key of entities.twin(id)?.keys() ?? []) retained.push(topic({ kind: 'twin', key }))
      for (const key of entities.meta(id)?.keys() ?? []) {
        const [letter, type = ''] = key.split('/') as [string, string]
        const kind = letter === 'm' ? 'measurement-meta' : letter === 'e' ? 'event-meta' : 'alarm-meta'
        retained.push(topic({ kind, type }))
      }
      for (const alarm of alarms.openOf(entity.id)) retained.push(topic({ kind: 'alarm', type: alarm.type }))
      for (const operation of entities.capabilities(id)?.keys() ?? [])
        retained.push(topic({ kind: 'capability', operation }))
      if (entities.config(id) !== undefined) retained.push(topic({ kind: 'config' }))
      if (entities.health(id)) retained.push(topic({ kind: 'health' }))
    }
    const ids = subtree.map((e) => e.id)
    for (const entity of subtree) this.quota.remove(entity.topicId)
    entities.remove(subtree)
    series.removeEntities(ids)
    events.removeEntities(ids)
    alarms.removeEntities(ids)
    for (const topic of retained) bus.publish(topic, '', { retain: true, qos: 1 })
    for (const entity of bottomUp) {
      bus.publish(formatTopic(entity.topicId, { kind: 'registration' }, topicRoot), '', {
        retain: true,
        qos: 1,
      })
    }
    this.deps.logger.info({ entity: topicId, removed: subtree.length }, 'deregistered')
    return subtree
  }
}
