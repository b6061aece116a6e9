// The JSON the HTTP API answers with, written once: the core's views are typed with these, and the
// UI's client (src-renderer/lib/api.ts) reads them. Dependency-free so the renderer can import it.

export type EntityType = 'device' | 'child-device' | 'service'
export type Severity = 'critical' | 'major' | 'minor' | 'warning'
export type AlarmStatus = 'active' | 'acknowledged' | 'cleared'
export type SeriesResolution = 'raw' | 'minute' | 'hour'

/**
 * An entity's health as EdgeTwin takes it to be, from what it says (status/health) and what it does
 * (docs/mqtt.md, "Health"): `up`, `down`, `stale` (communication lost: it was sending values
 * regularly and all of them are overdue) or `unknown` (a status other than up/down was reported).
 */
export type HealthStatus = 'up' | 'down' | 'stale' | 'unknown'

export interface HealthView {
  status: HealthStatus
  /** The reported status it rests on (`up`, `down`, …); null when derived from data alone. */
  reported: string | null
  /** Why, in plain words: "reported down, but it has sent data since". */
  reason: string
  /** When the reported status was received, else the entity's latest message. Epoch ms. */
  updatedAt: number
  /**
   * `own` (a service's status/health), `endpoint` (a device's @health service, default tedge-agent),
   * `services` (the worst of the device's services), `data` (up while the device sends data).
   */
  source: 'own' | 'endpoint' | 'services' | 'data'
}

export interface EntitySummary {
  /** Topic id, e.g. `device/filler//`. */
  id: string
  type: EntityType
  parent: string | null
  externalId: string | null
  name: string
  health: HealthView | null
  lastSeen: number | null
  /** Active (unacknowledged) alarms by severity, shelved ones left out. */
  activeAlarms: Record<Severity, number>
}

export interface TwinValueView {
  value: unknown
  version: number
  updatedAt: number
}

/**
 * How a person wants a series shown and judged. Every field is optional: an absent one means "as
 * the device reports it" (its name, its unit, an automatic range, no limits).
 */
export interface SeriesSettings {
  displayName?: string
  /** Shown instead of the unit from the device's `m/<type>/meta`. */
  unit?: string
  /** A fixed y range; absent: the chart scales to the values. */
  range?: { min: number; max: number }
  /** Alarm or warning limits, in the series' unit: lowLow ≤ low < high ≤ highHigh. */
  limits?: { lowLow?: number; low?: number; high?: number; highHigh?: number }
  setpoint?: number
  /** Seconds between values when the device is well: older values are stale. Overrides the learned period. */
  expectedPeriod?: number
}

export interface SeriesView {
  id: number
  type: string
  name: string
  unit: string | null
  /** The latest value's own time (epoch ms), and the value. */
  lastTime: number | null
  lastValue: number | null
  /**
   * How often the series is expected to get a value, in ms: learned from its last intervals, or
   * configured; null while it has too few values to tell.
   */
  expectedPeriod: number | null
  periodSource: 'learned' | 'configured' | null
  /** The age (ms) past which its latest value is stale: a few expected periods, with a floor. Null without a period. */
  staleAfter: number | null
  /** Whether the latest value was older than `staleAfter` when this answer was made. */
  stale: boolean
  /** What a person (or the built-in simulation, for its own line) set for this series. */
  settings?: SeriesSettings | null
}

export interface EntityDetail extends EntitySummary {
  registration: Record<string, unknown>
  autoRegistered: boolean
  registeredAt: number
  healthEndpoint: string | null
  twin: Record<string, TwinValueView>
  config: unknown
  capabilities: Record<string, unknown>
  children: string[]
  series: SeriesView[]
}

export interface SeriesPointView {
  /** Bucket start (or the sample's time for raw points), epoch ms. */
  time: number
  min: number
  max: number
  avg: number
  count: number
}

export interface SeriesAnswer {
  series: SeriesView & { entity: string | null; entityId: number }
  from: number
  to: number
  resolution: SeriesResolution
  points: SeriesPointView[]
}

export interface AlarmView {
  id: number
  entity: string
  type: string
  severity: Severity
  text: string
  status: AlarmStatus
  count: number
  firstTime: number
  lastTime: number
  payload: unknown
  acknowledgedAt: number | null
  acknowledgedBy: string | null
  clearedAt: number | null
  clearedBy: string | null
  /** Shelved until this time (epoch ms): left out of the banner, horn and unacknowledged counts. */
  shelvedUntil: number | null
  shelvedBy: string | null
  shelveReason: string | null
  comments: AlarmCommentView[]
  /** The first alarm of a burst on its line. */
  firstOut: boolean
  /** Times it was raised (the latest 20), oldest first. */
  occurrences: number[]
}

/**
 * One step of an alarm's life, for its history (`GET /api/v1/alarms/{id}`): `raised` is its
 * `occurrence`-th raise (1 the first; a jump in the numbers means raises not kept), `shelved`
 * carries until when and why, `shelf-ended` is a shelf whose time ran out. `by` is who acted:
 * `device` for a clear on the bus, else the operator (`ui`, `api`, the cloud's user); null when
 * the record does not say.
 */
export type AlarmHistoryEntry =
  | { kind: 'raised'; time: number; occurrence: number }
  | { kind: 'acknowledged'; time: number; by: string | null }
  | { kind: 'shelved'; time: number; by: string | null; until: number; reason: string }
  | { kind: 'unshelved'; time: number; by: string }
  | { kind: 'shelf-ended'; time: number }
  | { kind: 'comment'; time: number; by: string; text: string }
  | { kind: 'cleared'; time: number; by: string | null }

/** One alarm with its history, oldest step first. */
export interface AlarmDetailView extends AlarmView {
  history: AlarmHistoryEntry[]
}

export interface AlarmCommentView {
  time: number
  author: string
  text: string
}

export interface EventView {
  id: number
  entity: string
  type: string
  time: number
  text: string
  payload: unknown
}

export interface AuditEntryView {
  id: number
  time: number
  actor: string
  action: string
  entity: string | null
  target: string | null
  before: unknown
  after: unknown
}

export interface StatusView {
  version: string
  startedAt: number
  uptimeSeconds: number
  broker: {
    mode: 'embedded' | 'external'
    url: string
    connected: boolean
    /** The embedded broker's connections, limits and refusals by reason (see docs/mqtt.md). */
    connections?: number
    maxConnections?: number
    retainedBytes?: number
    refused?: Record<string, number>
  }
  ingest: { received: number; rejected: number; refused: number; values: number; pendingWrites: number }
  store: { file: string; bytes: number }
  /** The data dir's volume: below its reserve, or failing, new data from devices is refused. */
  disk: {
    condition: 'ok' | 'low' | 'full'
    freeBytes: number | null
    reserveBytes: number
    since: number
    reason: string | null
  }
  /** Lines of the core's log file lost to a full or failing disk, and why the last write failed. */
  logs: { dropped: number; error: string | null }
  entities: number
  /** The first (at most 100) registrations waiting for their parent, oldest first. */
  pendingRegistrations: string[]
  /** How many registrations wait for their parent. */
  pendingRegistrationCount: number
  /** The line is the built-in simulation (`serve` without `--no-sim`), not real equipment. */
  simulation: boolean
}

/** `successful` and `failed` end a command (reference §3.1); any other status is in progress. */
export type OperationStatus = 'init' | 'executing' | 'successful' | 'failed' | (string & {})

/** One state a command went through, as published on its retained topic. */
export interface OperationStateView {
  status: string
  time: number
  reason: string | null
  /** The full payload of that state message. */
  payload: Record<string, unknown>
}

/** One command instance `te/<entity>/cmd/<operation>/<cmdId>`, whoever requested or runs it. */
export interface OperationView {
  id: number
  entity: string
  operation: string
  cmdId: string
  status: OperationStatus
  /** True once `successful` or `failed`. */
  terminal: boolean
  reason: string | null
  /** The latest payload (the requester's input plus what the executor added). */
  payload: Record<string, unknown>
  /** Who asked from EdgeTwin (`ui`, `api`); null when another MQTT client requested it. */
  requestedBy: string | null
  /** `edgetwin` when EdgeTwin's agent runs its workflow, `external` when another connector owns it. */
  executor: 'edgetwin' | 'external'
  /** The workflow state machine's version (`@version`: sha256 of its TOML, or `builtin`). */
  workflowVersion: string | null
  createdAt: number
  updatedAt: number
  finishedAt: number | null
  /** Whether `POST /api/v1/operations/{id}/cancel` can stop it now. */
  cancellable: boolean
  /** The parent command's id for sub-operations (`sub:<op>:<cmdId>`). */
  parent: number | null
}

export interface OperationDetail extends OperationView {
  states: OperationStateView[]
  /** The workflow log of this command (EdgeTwin-executed commands only), newest lines last. */
  log: string | null
}

export interface OperationRequest {
  operation: string
  /** Fields of the `init` message besides `status`. */
  payload?: Record<string, unknown>
}

export interface SoftwareModuleView {
  type: string
  name: string
  version: string | null
}

/** The software an entity reported last (`software_list` / `software_update`), and the types it accepts. */
export interface SoftwareView {
  types: string[]
  modules: SoftwareModuleView[]
  updatedAt: number | null
}

export interface ConfigVersionView {
  id: number
  entity: string
  type: string
  /** 1, 2, … per entity and type. */
  version: number
  sha256: string
  size: number
  /** `snapshot` (read from the device), `update` (sent to it), `restore` (an older version sent again). */
  source: 'snapshot' | 'update' | 'restore'
  operationId: number | null
  actor: string | null
  time: number
  /** Where the device keeps the file, when it said. */
  path: string | null
}

export interface ConfigVersionDetail extends ConfigVersionView {
  /** The file's content as UTF-8 text. */
  content: string
}

/** `POST /api/v1/entities/{id}/configs/{type}`: a new configuration and the version it was edited from. */
export interface ConfigUpdateInput {
  content: string
  /** The version the edit started from (null when none was stored): 409 if it is no longer the latest. */
  baseVersion: number | null
}

/** `POST /api/v1/config-versions/{id}/restore`: the version the restore replaces, as the user saw it. */
export interface ConfigRestoreInput {
  baseVersion: number | null
}

/** The 409 answer to a configuration sent from a version that is no longer the latest. */
export interface StaleBase {
  error: string
  /**
   * The version stored now, with its content; null when none is. Left out when the refusal is an
   * update of the same file still running (no version to compare with yet).
   */
  current?: ConfigVersionDetail | null
}

/** A configuration type an entity declares (capability `config_snapshot`/`config_update` types). */
export interface ConfigTypeView {
  type: string
  canSnapshot: boolean
  canUpdate: boolean
  latest: ConfigVersionView | null
}

// ---- Cloud sync (docs/sync-protocol.md) ----

/** A stored secret is never answered back: only whether it is set and a short, harmless hint. */
export interface SecretView {
  set: boolean
  /** The password's length, or a certificate's subject and SHA-256 fingerprint prefix. */
  hint: string | null
}

export interface SyncConfigView {
  enabled: boolean
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL of the cloud broker; '' when not configured. */
  url: string
  siteId: string
  username: string
  password: SecretView
  /** Client certificate (PEM), its private key and the CA to trust instead of the system's. */
  clientCert: SecretView
  clientKey: SecretView
  ca: SecretView
  /** A batch is sent when it holds this many bytes (before compression) or its oldest item is this old. */
  batchBytes: number
  batchMs: number
  /** The outbox's bound: past it, the oldest measurements, then events, are dropped. */
  maxBacklogBytes: number
}

/**
 * A change to the sync configuration: fields left out stay as they are; `null` removes a secret.
 * Secrets are given in full (PEM text for certificates) and never answered back.
 */
export interface SyncConfigInput {
  enabled?: boolean
  url?: string
  siteId?: string
  username?: string
  password?: string | null
  clientCert?: string | null
  clientKey?: string | null
  ca?: string | null
  batchBytes?: number
  batchMs?: number
  maxBacklogBytes?: number
}

export type SyncState = 'off' | 'connecting' | 'connected' | 'disconnected'

export interface SyncStatusView {
  enabled: boolean
  state: SyncState
  url: string
  siteId: string
  /** When the current state began, epoch ms. */
  since: number
  /** Why the last attempt failed, in plain words (what happened, what to check). */
  lastError: string | null
  /** The same failure as the system or broker gave it (such as `ENOTFOUND: getaddrinfo …`), for logs. */
  lastErrorCode: string | null
  /** When the next connection attempt is due while disconnected, epoch ms. */
  nextRetryAt: number | null
  /** What waits in the outbox: items, the measurement values among them, stored bytes, oldest item's time. */
  backlog: { items: number; values: number; bytes: number; oldestTime: number | null }
  maxBacklogBytes: number
  /** Totals since the outbox was created: what the cloud broker acknowledged. */
  sent: { items: number; values: number; batches: number; bytes: number; uncompressedBytes: number }
  /** Over the last 10 seconds. */
  throughput: { itemsPerSecond: number; valuesPerSecond: number; bytesPerSecond: number }
  /** The last acknowledgement from the cloud broker, epoch ms. */
  lastSyncAt: number | null
  /** What the bound dropped, since the outbox was created. */
  dropped: { items: number; values: number }
  /** Messages received from the cloud, and those refused. */
  received: { messages: number; rejected: number }
  conflicts: { open: number; total: number }
}

/** Who wins when a desired property changed on both sides while they were apart. */
export type DesiredPolicy = 'cloud-wins' | 'edge-wins' | 'last-writer-wins'

/**
 * The device's answer for one desired property, IoT Plug and Play style: `ac` is an HTTP-like code
 * (200 applied, 202 in progress, 400 refused, 500 failed), `av` the desired version it answers.
 */
export interface DesiredAckView {
  value: unknown
  ac: number
  av: number
  ad: string | null
  time: number
}

export interface DesiredPropertyView {
  name: string
  /** The desired value; null when the property was removed (kept as a tombstone for sync). */
  value: unknown
  deleted: boolean
  /** The entity's desired version at this property's last change. */
  version: number
  hlc: string
  origin: string
  updatedAt: number
  policy: DesiredPolicy
  ack: DesiredAckView | null
  /**
   * What the device reports now: its twin fragment of the same name (docs/sync-protocol.md), with
   * when it was received; null when it reports none.
   */
  reported: { value: unknown; time: number } | null
  /**
   * `pending`: not applied yet; `applied`: acknowledged with 200 at its version; `refused`: 4xx/5xx;
   * `drifted`: applied, but the device has since reported another value (changed outside EdgeTwin).
   */
  state: 'pending' | 'in-progress' | 'applied' | 'refused' | 'drifted'
}

/** How a device describes a property it accepts: a subset of JSON Schema, with a unit. */
export interface DesiredPropertySpec {
  type?: 'number' | 'integer' | 'string' | 'boolean'
  minimum?: number
  maximum?: number
  unit?: string
  enum?: Array<number | string | boolean>
  pattern?: string
  default?: number | string | boolean
  description?: string
}

export interface DesiredView {
  entity: string
  version: number
  /** The highest version the cloud broker has acknowledged receiving; null if never synced. */
  syncedVersion: number | null
  properties: DesiredPropertyView[]
  /** Whether the entity declares `desired_update`, the command that applies desired properties. */
  supported: boolean
  /** The `desired_update` command in flight, if any. */
  command: { cmdId: string; status: string } | null
  /** The properties the device says it accepts, by name; null when it does not say. */
  accepts: Record<string, DesiredPropertySpec> | null
}

export interface DesiredPatchInput {
  /** New values by property name; `null` removes a property. */
  properties: Record<string, unknown>
  /** Refuse (409) if any of these properties changed after this version (optimistic concurrency). */
  baseVersion?: number
  /** Policies to set for the named properties. */
  policies?: Record<string, DesiredPolicy>
}

export interface ConflictSideView {
  value: unknown
  deleted: boolean
  origin: string
  hlc: string
  time: number
}

export interface ConflictView {
  id: number
  entity: string
  property: string
  time: number
  policy: DesiredPolicy
  edge: ConflictSideView
  cloud: ConflictSideView
  /** The side the policy chose; both sides converge on it. */
  winner: 'edge' | 'cloud'
  status: 'open' | 'resolved'
  /** An operator's decision: keep the winner, or apply the other side's value as a new change. */
  resolution: { by: string; time: number; choice: 'edge' | 'cloud' } | null
}
