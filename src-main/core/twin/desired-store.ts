import type { Database, Statement } from 'better-sqlite3'
import type {
  ConflictSideView,
  ConflictView,
  DesiredAckView,
  DesiredPolicy,
  DesiredPropertyView,
  DesiredView,
} from '../api/types'
import type { AuditStore } from '../audit/audit-store'
import type { BatchWriter } from '../store/writer'
import { formatHlc, type HybridClock, isHlc } from '../sync/hlc'
import type { Change } from './changes'
import { desiredSpecs } from './desired-spec'

export const DESIRED_POLICIES: readonly DesiredPolicy[] = ['cloud-wins', 'edge-wins', 'last-writer-wins']
/** The command that applies desired properties on a device (docs/sync-protocol.md). */
export const DESIRED_OPERATION = 'desired_update'

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/
/** The strictest of the clouds' limits (Azure 32 KB a section, AWS depth 6): per property here. */
const MAX_VALUE_BYTES = 8 * 1024
const MAX_DEPTH = 6

export class DesiredError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

interface Property {
  name: string
  /** undefined: removed (a tombstone, kept so a later merge knows the edge removed it). */
  value: unknown
  version: number
  hlc: string
  origin: string
  updatedAt: number
  policy: DesiredPolicy
  ack: DesiredAckView | null
}

interface Command {
  cmdId: string
  operationId: number
  version: number
  properties: Record<string, unknown>
}

interface Doc {
  entity: string
  version: number
  syncedVersion: number | null
  command: Command | null
  props: Map<string, Property>
}

/** What the device side says about an entity, for its desired view. */
export interface DeviceSide {
  /** The payload of its `desired_update` capability; undefined when it declares none. */
  capability: unknown
  /** The status of the `desired_update` command in flight. */
  commandStatus?: string
  /** Its twin fragment of that name: how the device reports the value in effect. */
  reported: (name: string) => { value: unknown; updatedAt: number } | undefined
}

export interface DesiredDeps {
  db: Database
  writer: BatchWriter
  audit: AuditStore
  clock: HybridClock
  notify: (change: Change) => void
  now: () => number
}

/** One side of a change to a desired property, as the merge sees it. */
interface Write {
  value: unknown
  hlc: string
  origin: string
}

export interface CloudPatch {
  properties: Record<string, unknown>
  /** The version the cloud based its change on: edge changes after it are concurrent. */
  base: number
  hlc: string
  origin: string
}

export interface CloudOutcome {
  version: number
  applied: string[]
  conflicts: ConflictView[]
}

/** The property names and values of a patch, validated; `null` (removal) becomes undefined. */
function validate(properties: Record<string, unknown>): Map<string, unknown> {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    throw new DesiredError(400, '"properties" must be an object of property names to values')
  const result = new Map<string, unknown>()
  for (const [name, value] of Object.entries(properties)) {
    if (!NAME.test(name))
      throw new DesiredError(
        400,
        `desired property name "${name}" must start with a letter or "_" and hold only letters, digits, "_" or "-" (at most 128)`,
      )
    if (value !== null) {
      const json = JSON.stringify(value)
      if (json === undefined) throw new DesiredError(400, `desired property "${name}" is not a JSON value`)
      if (Buffer.byteLength(json) > MAX_VALUE_BYTES)
        throw new DesiredError(413, `desired property "${name}" is larger than ${MAX_VALUE_BYTES} bytes`)
      if (depth(value) > MAX_DEPTH)
        throw new DesiredError(400, `desired property "${name}" nests deeper than ${MAX_DEPTH} levels`)
    }
    result.set(name, value === null ? undefined : value)
  }
  return result
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  let deepest = 0
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child))
  return deepest + 1
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/**
 * Desired properties per entity: versioned (one version per entity, bumped by every change, and
 * each property keeps the version of its last change), acknowledged by the device IoT Plug and
 * Play style, merged three-way with changes from the cloud, with every conflict kept.
 */
export class DesiredStore {
  private readonly docs = new Map<string, Doc>()
  private readonly conflictRows = new Map<number, ConflictView>()
  private nextConflictId = 1
  private statements!: Record<'upsertProperty' | 'upsertDoc' | 'upsertConflict', Statement>

  constructor(private readonly deps: DesiredDeps) {}

  start(): void {
    const { db } = this.deps
    this.statements = {
      upsertProperty:
        db.prepare(`INSERT INTO desired (entity, name, value, version, hlc, origin, updated_at, policy, ack)
        VALUES (@entity, @name, @value, @version, @hlc, @origin, @updatedAt, @policy, @ack)
        ON CONFLICT(entity, name) DO UPDATE SET value = excluded.value, version = excluded.version,
          hlc = excluded.hlc, origin = excluded.origin, updated_at = excluded.updated_at,
          policy = excluded.policy, ack = excluded.ack`),
      upsertDoc: db.prepare(`INSERT INTO desired_docs (entity, version, synced_version, command)
        VALUES (?, ?, ?, ?) ON CONFLICT(entity) DO UPDATE SET version = excluded.version,
          synced_version = excluded.synced_version, command = excluded.command`),
      upsertConflict:
        db.prepare(`INSERT INTO conflicts (id, entity, property, time, policy, edge, cloud, winner, resolution)
        VALUES (@id, @entity, @property, @time, @policy, @edge, @cloud, @winner, @resolution)
        ON CONFLICT(id) DO UPDATE SET resolution = excluded.resolution`),
    }
    for (const row of db.prepare('SELECT * FROM desired_docs').all() as Array<{
      entity: string
      version: number
      synced_version: number | null
      command: string | null
    }>) {
      this.docs.set(row.entity, {
        entity: row.entity,
        version: row.version,
        syncedVersion: row.synced_version,
        command: row.command ? JSON.parse(row.command) : null,
        props: new Map(),
      })
    }
    for (const row of db.prepare('SELECT * FROM desired').all() as Array<{
      entity: string
      name: string
      value: string | null
      version: number
      hlc: string
      origin: string
      updated_at: number
      policy: DesiredPolicy
      ack: string | null
    }>) {
      this.docs.get(row.entity)?.props.set(row.name, {
        name: row.name,
        value: row.value === null ? undefined : JSON.parse(row.value),
        version: row.version,
        hlc: row.hlc,
        origin: row.origin,
        updatedAt: row.updated_at,
        policy: row.policy,
        ack: row.ack ? JSON.parse(row.ack) : null,
      })
    }
    for (const row of db.prepare('SELECT * FROM conflicts ORDER BY id').all() as Array<{
      id: number
      entity: string
      property: string
      time: number
      policy: DesiredPolicy
      edge: string
      cloud: string
      winner: 'edge' | 'cloud'
      resolution: string | null
    }>) {
      const resolution = row.resolution ? JSON.parse(row.resolution) : null
      this.conflictRows.set(row.id, {
        id: row.id,
        entity: row.entity,
        property: row.property,
        time: row.time,
        policy: row.policy,
        edge: JSON.parse(row.edge),
        cloud: JSON.parse(row.cloud),
        winner: row.winner,
        status: resolution ? 'resolved' : 'open',
        resolution,
      })
      this.nextConflictId = row.id + 1
    }
  }

  /** Entities with desired properties (or a desired history). */
  entities(): string[] {
    return [...this.docs.keys()]
  }

  view(entity: string, device: DeviceSide): DesiredView {
    const doc = this.docs.get(entity)
    const command = doc?.command
    return {
      entity,
      version: doc?.version ?? 0,
      syncedVersion: doc?.syncedVersion ?? null,
      properties: doc ? [...doc.props.values()].map((p) => propertyView(p, command ?? null, device)) : [],
      supported: device.capability !== undefined,
      command: command ? { cmdId: command.cmdId, status: device.commandStatus ?? 'init' } : null,
      accepts: desiredSpecs(device.capability),
    }
  }

  /** The desired document as it goes upstream: every property, removed ones as tombstones. */
  document(entity: string): Record<string, unknown> | undefined {
    const doc = this.docs.get(entity)
    if (!doc) return undefined
    const properties: Record<string, unknown> = {}
    for (const p of doc.props.values()) {
      const { name: _name, value, ...rest } = p
      properties[p.name] = value === undefined ? { deleted: true, ...rest } : { value, ...rest }
    }
    return { version: doc.version, properties }
  }

  /** A change from the local UI or API. */
  patch(
    entity: string,
    input: { properties: Record<string, unknown>; baseVersion?: number; policies?: Record<string, unknown> },
    actor: string,
  ): number {
    const changes = validate(input.properties ?? {})
    const policies = new Map<string, DesiredPolicy>()
    for (const [name, policy] of Object.entries(input.policies ?? {})) {
      if (!DESIRED_POLICIES.includes(policy as DesiredPolicy))
        throw new DesiredError(400, `policy of "${name}" must be one of ${DESIRED_POLICIES.join(', ')}`)
      policies.set(name, policy as DesiredPolicy)
    }
    const doc = this.doc(entity)
    if (input.baseVersion !== undefined) {
      for (const name of changes.keys()) {
        const current = doc.props.get(name)
        if (current && current.version > input.baseVersion)
          throw new DesiredError(
            409,
            `desired property "${name}" changed in version ${current.version}, after version ${input.baseVersion}`,
          )
      }
    }
    for (const name of policies.keys()) {
      if (!doc.props.has(name) && !changes.has(name))
        throw new DesiredError(404, `no desired property "${name}" to set a policy for`)
    }
    const before: Record<string, unknown> = {}
    const after: Record<string, unknown> = {}
    const hlc = this.deps.clock.now()
    const version = doc.version + 1
    let changed = false
    for (const [name, value] of changes) {
      const current = doc.props.get(name)
      if (current ? current.value === undefined && value === undefined : value === undefined) continue
      if (current && current.value !== undefined && same(current.value, value)) continue
      before[name] = current?.value ?? null
      after[name] = value ?? null
      this.set(doc, name, { value, hlc, origin: `edge:${actor}` }, version, policies.get(name))
      changed = true
    }
    for (const [name, policy] of policies) {
      const current = doc.props.get(name)
      if (!current || current.policy === policy) continue
      before[`${name}.policy`] = current.policy
      after[`${name}.policy`] = policy
      current.policy = policy
      this.writeProperty(entity, current)
      changed = true
    }
    if (!changed) return doc.version
    this.bump(doc, version)
    this.deps.audit.append({ actor, action: 'desired.update', entity, target: 'desired', before, after })
    return version
  }

  /**
   * Sends properties to the device again, unchanged: each gets a new version, so it is pending until
   * the device answers it (a device that reverted a value outside EdgeTwin is brought back to it).
   */
  reapply(entity: string, names: readonly string[], actor: string): number {
    const doc = this.docs.get(entity)
    const properties = names.map((name) => {
      const p = doc?.props.get(name)
      if (!p || p.value === undefined)
        throw new DesiredError(404, `no desired property "${name}" to apply again`)
      return p
    })
    if (!doc || properties.length === 0) return doc?.version ?? 0
    const version = doc.version + 1
    for (const p of properties) {
      p.version = version
      this.writeProperty(entity, p)
    }
    this.bump(doc, version)
    const values = Object.fromEntries(properties.map((p) => [p.name, p.value]))
    this.deps.audit.append({
      actor,
      action: 'desired.reapply',
      entity,
      target: 'desired',
      before: null,
      after: values,
    })
    return version
  }

  /**
   * A change from the cloud, merged three-way per property against `base`: a property the edge did
   * not change since is taken; one both changed (to different values) is a conflict, decided by the
   * property's policy and recorded.
   */
  applyCloud(entity: string, patch: CloudPatch): CloudOutcome {
    const changes = validate(patch.properties)
    this.deps.clock.observe(patch.hlc)
    const doc = this.doc(entity)
    const version = doc.version + 1
    const applied: string[] = []
    const conflicts: ConflictView[] = []
    const cloud: Omit<Write, 'value'> = { hlc: patch.hlc, origin: patch.origin }
    const now = this.deps.now()
    for (const [name, value] of changes) {
      const current = doc.props.get(name)
      if (current && same(current.value, value)) continue
      const edgeChanged = current && current.version > patch.base && !current.origin.startsWith('cloud')
      if (!current || !edgeChanged) {
        this.set(doc, name, { value, ...cloud }, version)
        applied.push(name)
        continue
      }
      const winner = this.decide(current, cloud.hlc)
      if (winner === 'cloud') {
        this.set(doc, name, { value, ...cloud }, version)
        applied.push(name)
      }
      const conflict: ConflictView = {
        id: this.nextConflictId++,
        entity,
        property: name,
        time: now,
        policy: current.policy,
        edge: side(current, current.updatedAt),
        cloud: side({ value, ...cloud }, now),
        winner,
        status: 'open',
        resolution: null,
      }
      this.writeConflict(conflict)
      conflicts.push(conflict)
    }
    // Even when the edge kept every value, the cloud gets the merged document back to converge on.
    if (applied.length > 0 || conflicts.length > 0) this.bump(doc, version)
    if (applied.length > 0) {
      this.deps.audit.append({
        actor: patch.origin,
        action: 'desired.update',
        entity,
        target: 'desired',
        before: null,
        after: Object.fromEntries(applied.map((name) => [name, doc.props.get(name)?.value ?? null])),
      })
    }
    for (const conflict of conflicts) this.deps.notify({ kind: 'conflict', entity, id: conflict.id })
    return { version: doc.version, applied, conflicts }
  }

  private decide(current: Property, cloudHlc: string): 'edge' | 'cloud' {
    switch (current.policy) {
      case 'edge-wins':
        return 'edge'
      case 'last-writer-wins':
        return cloudHlc > current.hlc ? 'cloud' : 'edge'
      default:
        return 'cloud'
    }
  }

  conflicts(filter: { status?: 'open' | 'resolved'; entity?: string; limit: number }): ConflictView[] {
    const result: ConflictView[] = []
    const rows = [...this.conflictRows.values()].reverse()
    for (const row of rows) {
      if (filter.status && row.status !== filter.status) continue
      if (filter.entity && row.entity !== filter.entity) continue
      result.push(row)
      if (result.length >= filter.limit) break
    }
    return result
  }

  conflict(id: number): ConflictView | undefined {
    return this.conflictRows.get(id)
  }

  conflictCounts(): { open: number; total: number } {
    let open = 0
    for (const row of this.conflictRows.values()) if (row.status === 'open') open++
    return { open, total: this.conflictRows.size }
  }

  /**
   * An operator settles a conflict: keeping the winner closes it; choosing the other side applies
   * that value as a new change, which then syncs like any other.
   */
  resolve(id: number, choice: 'edge' | 'cloud', actor: string): ConflictView {
    const conflict = this.conflictRows.get(id)
    if (!conflict) throw new DesiredError(404, `conflict ${id} not found`)
    if (conflict.status === 'resolved') throw new DesiredError(409, `conflict ${id} is already resolved`)
    if (choice !== conflict.winner) {
      const chosen = conflict[choice]
      this.patch(
        conflict.entity,
        { properties: { [conflict.property]: chosen.deleted ? null : chosen.value } },
        actor,
      )
    }
    conflict.status = 'resolved'
    conflict.resolution = { by: actor, time: this.deps.now(), choice }
    this.writeConflict(conflict)
    this.deps.audit.append({
      actor,
      action: 'conflict.resolve',
      entity: conflict.entity,
      target: `desired/${conflict.property}`,
      before: { winner: conflict.winner },
      after: { choice },
    })
    this.deps.notify({ kind: 'conflict', entity: conflict.entity, id })
    return conflict
  }

  /** The cloud broker has the document up to this version. */
  synced(entity: string, version: number): void {
    const doc = this.docs.get(entity)
    if (!doc || (doc.syncedVersion ?? 0) >= version) return
    doc.syncedVersion = version
    this.writeDoc(doc)
    this.deps.notify({ kind: 'desired', entity, version: doc.version })
  }

  syncedVersion(entity: string): number | null {
    return this.docs.get(entity)?.syncedVersion ?? null
  }

  /** What a `desired_update` should carry now: the properties not applied at their version. */
  pending(entity: string): { version: number; properties: Record<string, unknown> } | undefined {
    const doc = this.docs.get(entity)
    if (!doc || doc.command) return undefined
    const properties: Record<string, unknown> = {}
    let any = false
    for (const p of doc.props.values()) {
      if (p.ack && p.ack.av >= p.version) continue
      properties[p.name] = p.value ?? null
      any = true
    }
    return any ? { version: doc.version, properties } : undefined
  }

  command(entity: string): Command | null {
    return this.docs.get(entity)?.command ?? null
  }

  commandSent(entity: string, command: Command): void {
    const doc = this.doc(entity)
    doc.command = command
    this.writeDoc(doc)
    this.deps.notify({ kind: 'desired', entity, version: doc.version })
  }

  /**
   * The device answered a `desired_update`: each property it carried is acknowledged with the
   * device's own result for it, else 200 (successful) or 500 with the reason (failed).
   */
  acknowledge(
    entity: string,
    cmdId: string,
    status: string,
    reason: string | undefined,
    results: Record<string, unknown> | undefined,
  ): void {
    const doc = this.docs.get(entity)
    const command = doc?.command
    if (!doc || !command || command.cmdId !== cmdId) return
    const terminal = status === 'successful' || status === 'failed'
    if (!terminal && !results) return
    const time = this.deps.now()
    for (const [name, sent] of Object.entries(command.properties)) {
      const p = doc.props.get(name)
      if (!p) continue
      const own = results?.[name]
      const result = typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : {}
      const fallback = status === 'successful' ? 200 : status === 'failed' ? 500 : 202
      const ac = Number.isInteger(result.ac) ? (result.ac as number) : fallback
      p.ack = {
        value: 'value' in result ? result.value : sent,
        ac,
        av: command.version,
        ad:
          typeof result.ad === 'string'
            ? result.ad
            : ac >= 300
              ? (reason ?? 'failed')
              : ac === 200
                ? 'applied'
                : null,
        time,
      }
      this.writeProperty(entity, p)
    }
    if (terminal) doc.command = null
    this.bump(doc, doc.version + 1)
  }

  /** The command was withdrawn or lost: its properties become pending again. */
  commandGone(entity: string, cmdId: string): void {
    const doc = this.docs.get(entity)
    if (!doc?.command || doc.command.cmdId !== cmdId) return
    doc.command = null
    this.writeDoc(doc)
    this.deps.notify({ kind: 'desired', entity, version: doc.version })
  }

  private doc(entity: string): Doc {
    let doc = this.docs.get(entity)
    if (!doc) {
      doc = { entity, version: 0, syncedVersion: null, command: null, props: new Map() }
      this.docs.set(entity, doc)
    }
    return doc
  }

  private set(doc: Doc, name: string, write: Write, version: number, policy?: DesiredPolicy): void {
    const current = doc.props.get(name)
    const p: Property = {
      name,
      value: write.value,
      version,
      hlc: write.hlc,
      origin: write.origin,
      updatedAt: this.deps.now(),
      policy: policy ?? current?.policy ?? 'cloud-wins',
      ack: current?.ack ?? null,
    }
    doc.props.set(name, p)
    this.writeProperty(doc.entity, p)
  }

  private bump(doc: Doc, version: number): void {
    doc.version = version
    this.writeDoc(doc)
    this.deps.notify({ kind: 'desired', entity: doc.entity, version })
  }

  private writeProperty(entity: string, p: Property): void {
    const row = {
      entity,
      name: p.name,
      value: p.value === undefined ? null : JSON.stringify(p.value),
      version: p.version,
      hlc: p.hlc,
      origin: p.origin,
      updatedAt: p.updatedAt,
      policy: p.policy,
      ack: p.ack ? JSON.stringify(p.ack) : null,
    }
    this.deps.writer.write(() => this.statements.upsertProperty.run(row))
  }

  private writeDoc(doc: Doc): void {
    const args = [
      doc.entity,
      doc.version,
      doc.syncedVersion,
      doc.command ? JSON.stringify(doc.command) : null,
    ]
    this.deps.writer.write(() => this.statements.upsertDoc.run(...args))
  }

  private writeConflict(c: ConflictView): void {
    this.conflictRows.set(c.id, c)
    const row = {
      id: c.id,
      entity: c.entity,
      property: c.property,
      time: c.time,
      policy: c.policy,
      edge: JSON.stringify(c.edge),
      cloud: JSON.stringify(c.cloud),
      winner: c.winner,
      resolution: c.resolution ? JSON.stringify(c.resolution) : null,
    }
    this.deps.writer.write(() => this.statements.upsertConflict.run(row))
  }
}

function propertyView(p: Property, command: Command | null, device: DeviceSide): DesiredPropertyView {
  const twin = device.reported(p.name)
  const reported = twin ? { value: twin.value, time: twin.updatedAt } : null
  let state: DesiredPropertyView['state'] = 'pending'
  if (p.ack && p.ack.av >= p.version) {
    state = p.ack.ac < 300 ? (p.ack.ac === 202 ? 'in-progress' : 'applied') : 'refused'
    // Only a report made after the answer counts: one made before it may predate the change. A
    // removed property asks for nothing in particular (the device's factory value), so cannot drift.
    const changed =
      reported && p.value !== undefined && reported.time >= p.ack.time && !same(reported.value, p.value)
    if (state === 'applied' && changed) state = 'drifted'
  } else if (command && command.version >= p.version && p.name in command.properties) state = 'in-progress'
  return {
    name: p.name,
    value: p.value ?? null,
    deleted: p.value === undefined,
    version: p.version,
    hlc: p.hlc,
    origin: p.origin,
    updatedAt: p.updatedAt,
    policy: p.policy,
    ack: p.ack,
    reported,
    state,
  }
}

function side(write: Write, time: number): ConflictSideView {
  return {
    value: write.value ?? null,
    deleted: write.value === undefined,
    origin: write.origin,
    hlc: write.hlc,
    time,
  }
}

/** A cloud change's clock: its own HLC, else one made from its `time`, else its arrival. */
export function cloudHlc(hlc: unknown, time: unknown, arrival: number, node: string): string {
  if (isHlc(hlc)) return hlc
  const ms = typeof time === 'number' && Number.isFinite(time) ? Math.floor(time) : Math.floor(arrival)
  return formatHlc(ms, 0, node)
}
