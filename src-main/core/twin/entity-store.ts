import type { Database, Statement } from 'better-sqlite3'
import type { BatchWriter } from '../store/writer'
import type { JsonObject } from '../telemetry/payload'

export type EntityType = 'device' | 'child-device' | 'service'

export interface Entity {
  id: number
  topicId: string
  type: EntityType
  parent: string | undefined
  externalId: string | undefined
  healthEndpoint: string | undefined
  /** The registration payload as received (reserved `@` keys and initial twin keys). */
  registration: JsonObject
  autoRegistered: boolean
  registeredAt: number
  lastSeen: number | undefined
}

export interface TwinValue {
  value: unknown
  version: number
  updatedAt: number
}

export interface HealthState {
  status: string
  payload: unknown
  updatedAt: number
}

/** Per-entity state other than telemetry history, kept in memory and written through the batch writer. */
interface EntityState {
  entity: Entity
  twin: Map<string, TwinValue>
  config: unknown
  capabilities: Map<string, unknown>
  /** `m`, `e`, `a` type metadata, keyed `<channel>/<type>`. */
  meta: Map<string, unknown>
  health: HealthState | undefined
}

export type EntityChange =
  | { kind: 'entity'; entity: string; op: 'upsert' | 'delete' }
  | { kind: 'twin'; entity: string; key: string; value: unknown }
  | { kind: 'health'; entity: string; status: string }

interface Row {
  id: number
  topic_id: string
  type: EntityType
  parent: string | null
  external_id: string | null
  health_endpoint: string | null
  registration: string
  auto_registered: number
  registered_at: number
  last_seen: number | null
}

/**
 * The registry of entities (main device, child devices, services) with their twin fragments,
 * exposed config, capabilities, type metadata and health. Reads are served from memory; writes go to
 * SQLite through the batch writer.
 */
export class EntityStore {
  private readonly states = new Map<string, EntityState>()
  private readonly ids = new Map<number, EntityState>()
  /** Child topic ids by parent topic id. */
  private readonly childIds = new Map<string, Set<string>>()
  private nextId = 1
  private readonly dirtyLastSeen = new Set<EntityState>()
  private statements!: Record<string, Statement>

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
    private readonly notify: (change: EntityChange) => void,
    private readonly now: () => number,
  ) {}

  start(): void {
    const db = this.db
    this.statements = {
      upsertEntity:
        db.prepare(`INSERT INTO entities (id, topic_id, type, parent, external_id, health_endpoint,
          registration, auto_registered, registered_at, last_seen)
        VALUES (@id, @topicId, @type, @parent, @externalId, @healthEndpoint, @registration, @autoRegistered, @registeredAt, @lastSeen)
        ON CONFLICT(id) DO UPDATE SET parent = excluded.parent, health_endpoint = excluded.health_endpoint,
          registration = excluded.registration, auto_registered = excluded.auto_registered`),
      lastSeen: db.prepare('UPDATE entities SET last_seen = ? WHERE id = ?'),
      upsertTwin:
        db.prepare(`INSERT INTO twin (entity_id, key, value, version, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(entity_id, key) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at`),
      deleteTwin: db.prepare('DELETE FROM twin WHERE entity_id = ? AND key = ?'),
      upsertConfig: db.prepare(`INSERT INTO entity_config (entity_id, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT(entity_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      deleteConfig: db.prepare('DELETE FROM entity_config WHERE entity_id = ?'),
      upsertCapability:
        db.prepare(`INSERT INTO capabilities (entity_id, operation, payload, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(entity_id, operation) DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at`),
      deleteCapability: db.prepare('DELETE FROM capabilities WHERE entity_id = ? AND operation = ?'),
      upsertMeta: db.prepare(`INSERT INTO type_meta (entity_id, channel, type, value) VALUES (?, ?, ?, ?)
        ON CONFLICT(entity_id, channel, type) DO UPDATE SET value = excluded.value`),
      deleteMeta: db.prepare('DELETE FROM type_meta WHERE entity_id = ? AND channel = ? AND type = ?'),
      upsertHealth:
        db.prepare(`INSERT INTO health (entity_id, status, payload, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(entity_id) DO UPDATE SET status = excluded.status, payload = excluded.payload, updated_at = excluded.updated_at`),
    }
    this.load()
    this.writer.beforeEachCommit({
      write: () => this.writeLastSeen(),
      committed: () => this.dirtyLastSeen.clear(),
    })
  }

  private load(): void {
    const db = this.db
    const byId = new Map<number, EntityState>()
    for (const row of db.prepare('SELECT * FROM entities ORDER BY id').all() as Row[]) {
      const state: EntityState = {
        entity: {
          id: row.id,
          topicId: row.topic_id,
          type: row.type,
          parent: row.parent ?? undefined,
          externalId: row.external_id ?? undefined,
          healthEndpoint: row.health_endpoint ?? undefined,
          registration: JSON.parse(row.registration),
          autoRegistered: row.auto_registered === 1,
          registeredAt: row.registered_at,
          lastSeen: row.last_seen ?? undefined,
        },
        twin: new Map(),
        config: undefined,
        capabilities: new Map(),
        meta: new Map(),
        health: undefined,
      }
      this.states.set(row.topic_id, state)
      this.ids.set(row.id, state)
      this.link(row.topic_id, row.parent ?? undefined)
      byId.set(row.id, state)
      this.nextId = Math.max(this.nextId, row.id + 1)
    }
    type Keyed = { entity_id: number }
    for (const r of db.prepare('SELECT * FROM twin').all() as Array<
      Keyed & { key: string; value: string; version: number; updated_at: number }
    >) {
      byId
        .get(r.entity_id)
        ?.twin.set(r.key, { value: JSON.parse(r.value), version: r.version, updatedAt: r.updated_at })
    }
    for (const r of db.prepare('SELECT * FROM entity_config').all() as Array<Keyed & { value: string }>) {
      const state = byId.get(r.entity_id)
      if (state) state.config = JSON.parse(r.value)
    }
    for (const r of db.prepare('SELECT * FROM capabilities').all() as Array<
      Keyed & { operation: string; payload: string }
    >) {
      byId.get(r.entity_id)?.capabilities.set(r.operation, JSON.parse(r.payload))
    }
    for (const r of db.prepare('SELECT * FROM type_meta').all() as Array<
      Keyed & { channel: string; type: string; value: string }
    >) {
      byId.get(r.entity_id)?.meta.set(`${r.channel}/${r.type}`, JSON.parse(r.value))
    }
    for (const r of db.prepare('SELECT * FROM health').all() as Array<
      Keyed & { status: string; payload: string; updated_at: number }
    >) {
      const state = byId.get(r.entity_id)
      if (state) state.health = { status: r.status, payload: JSON.parse(r.payload), updatedAt: r.updated_at }
    }
  }

  get size(): number {
    return this.states.size
  }

  get(topicId: string): Entity | undefined {
    return this.states.get(topicId)?.entity
  }

  byId(id: number): Entity | undefined {
    return this.ids.get(id)?.entity
  }

  has(topicId: string): boolean {
    return this.states.has(topicId)
  }

  all(): Entity[] {
    return [...this.states.values()].map((s) => s.entity)
  }

  /** Entities in registration order (ascending id), from the first whose id is above `afterId`. */
  *from(afterId = 0): Generator<Entity> {
    // The map keeps insertion order: loaded by id, then new ids counting up; an update keeps its place.
    for (const state of this.states.values()) if (state.entity.id > afterId) yield state.entity
  }

  children(topicId: string): Entity[] {
    const ids = this.childIds.get(topicId)
    return ids ? [...ids].flatMap((id) => this.states.get(id)?.entity ?? []) : []
  }

  private link(topicId: string, parent: string | undefined): void {
    if (parent === undefined) return
    let siblings = this.childIds.get(parent)
    if (!siblings) {
      siblings = new Set()
      this.childIds.set(parent, siblings)
    }
    siblings.add(topicId)
  }

  private unlink(topicId: string, parent: string | undefined): void {
    if (parent !== undefined) this.childIds.get(parent)?.delete(topicId)
  }

  /** The entity and all its descendants, parents before children. */
  subtree(topicId: string): Entity[] {
    const root = this.get(topicId)
    if (!root) return []
    const result = [root]
    for (let i = 0; i < result.length; i++) {
      result.push(...this.children((result[i] as Entity).topicId))
    }
    return result
  }

  /** Creates or updates an entity. The caller has validated the registration. */
  upsert(fields: {
    topicId: string
    type: EntityType
    parent: string | undefined
    externalId: string | undefined
    healthEndpoint: string | undefined
    registration: JsonObject
    autoRegistered: boolean
  }): Entity {
    const existing = this.states.get(fields.topicId)
    const entity: Entity = existing
      ? { ...existing.entity, ...fields }
      : { id: this.nextId++, registeredAt: this.now(), lastSeen: undefined, ...fields }
    if (existing) {
      this.unlink(entity.topicId, existing.entity.parent)
      existing.entity = entity
    } else {
      const state = {
        entity,
        twin: new Map(),
        config: undefined,
        capabilities: new Map(),
        meta: new Map(),
        health: undefined,
      }
      this.states.set(entity.topicId, state)
      this.ids.set(entity.id, state)
    }
    this.link(entity.topicId, entity.parent)
    const row = {
      ...entity,
      parent: entity.parent ?? null,
      externalId: entity.externalId ?? null,
      healthEndpoint: entity.healthEndpoint ?? null,
      registration: JSON.stringify(entity.registration),
      autoRegistered: entity.autoRegistered ? 1 : 0,
      lastSeen: entity.lastSeen ?? null,
    }
    this.writer.write(() => this.statements.upsertEntity?.run(row))
    this.notify({ kind: 'entity', entity: entity.topicId, op: 'upsert' })
    return entity
  }

  /** Removes the entities (already ordered children-last by the caller) and all their data. */
  remove(entities: Entity[]): void {
    const ids = entities.map((e) => e.id)
    for (const e of entities) {
      const state = this.states.get(e.topicId)
      if (state) this.dirtyLastSeen.delete(state)
      this.states.delete(e.topicId)
      this.ids.delete(e.id)
      this.unlink(e.topicId, e.parent)
      this.childIds.delete(e.topicId)
    }
    this.writer.write(() => {
      const list = ids.join(',')
      for (const table of ['entities', 'twin', 'entity_config', 'capabilities', 'type_meta', 'health']) {
        const column = table === 'entities' ? 'id' : 'entity_id'
        this.db.prepare(`DELETE FROM ${table} WHERE ${column} IN (${list})`).run()
      }
    })
    for (const e of entities) this.notify({ kind: 'entity', entity: e.topicId, op: 'delete' })
  }

  seen(topicId: string, time: number): void {
    const state = this.states.get(topicId)
    if (!state) return
    state.entity.lastSeen = time
    this.dirtyLastSeen.add(state)
  }

  private writeLastSeen(): void {
    for (const state of this.dirtyLastSeen)
      this.statements.lastSeen?.run(state.entity.lastSeen, state.entity.id)
  }

  twin(topicId: string): Map<string, TwinValue> | undefined {
    return this.states.get(topicId)?.twin
  }

  /** Sets a twin fragment; undefined deletes it. Returns false when nothing changed. */
  setTwin(topicId: string, key: string, value: unknown): boolean {
    const state = this.states.get(topicId)
    if (!state) return false
    const current = state.twin.get(key)
    const id = state.entity.id
    if (value === undefined) {
      if (!current) return false
      state.twin.delete(key)
      this.writer.write(() => this.statements.deleteTwin?.run(id, key))
    } else {
      const json = JSON.stringify(value)
      if (current && JSON.stringify(current.value) === json) return false
      const next = { value, version: (current?.version ?? 0) + 1, updatedAt: this.now() }
      state.twin.set(key, next)
      this.writer.write(() => this.statements.upsertTwin?.run(id, key, json, next.version, next.updatedAt))
    }
    this.notify({ kind: 'twin', entity: topicId, key, value: value ?? null })
    return true
  }

  config(topicId: string): unknown {
    return this.states.get(topicId)?.config
  }

  setConfig(topicId: string, value: unknown): void {
    const state = this.states.get(topicId)
    if (!state) return
    state.config = value
    const id = state.entity.id
    if (value === undefined) this.writer.write(() => this.statements.deleteConfig?.run(id))
    else {
      const json = JSON.stringify(value)
      const time = this.now()
      this.writer.write(() => this.statements.upsertConfig?.run(id, json, time))
    }
  }

  capabilities(topicId: string): Map<string, unknown> | undefined {
    return this.states.get(topicId)?.capabilities
  }

  setCapability(topicId: string, operation: string, payload: unknown): void {
    const state = this.states.get(topicId)
    if (!state) return
    const id = state.entity.id
    if (payload === undefined) {
      state.capabilities.delete(operation)
      this.writer.write(() => this.statements.deleteCapability?.run(id, operation))
    } else {
      state.capabilities.set(operation, payload)
      const json = JSON.stringify(payload)
      const time = this.now()
      this.writer.write(() => this.statements.upsertCapability?.run(id, operation, json, time))
    }
    this.notify({ kind: 'entity', entity: topicId, op: 'upsert' })
  }

  meta(topicId: string): Map<string, unknown> | undefined {
    return this.states.get(topicId)?.meta
  }

  setMeta(topicId: string, channel: 'm' | 'e' | 'a', type: string, value: unknown): void {
    const state = this.states.get(topicId)
    if (!state) return
    const id = state.entity.id
    if (value === undefined) {
      state.meta.delete(`${channel}/${type}`)
      this.writer.write(() => this.statements.deleteMeta?.run(id, channel, type))
    } else {
      state.meta.set(`${channel}/${type}`, value)
      const json = JSON.stringify(value)
      this.writer.write(() => this.statements.upsertMeta?.run(id, channel, type, json))
    }
  }

  /** The unit of a series from `m/<type>/meta`: `{"temperature":{"unit":"°C"}}`, groups dotted. */
  unit(topicId: string, type: string, series: string): string | undefined {
    const meta = this.states.get(topicId)?.meta.get(`m/${type}`) as
      | Record<string, { unit?: unknown }>
      | undefined
    const unit = meta?.[series]?.unit
    return typeof unit === 'string' ? unit : undefined
  }

  health(topicId: string): HealthState | undefined {
    return this.states.get(topicId)?.health
  }

  setHealth(topicId: string, status: string, payload: unknown): void {
    const state = this.states.get(topicId)
    if (!state) return
    const changed = state.health?.status !== status
    const health = { status, payload, updatedAt: this.now() }
    state.health = health
    const id = state.entity.id
    const json = JSON.stringify(payload)
    this.writer.write(() => this.statements.upsertHealth?.run(id, status, json, health.updatedAt))
    if (changed) this.notify({ kind: 'health', entity: topicId, status })
  }
}
