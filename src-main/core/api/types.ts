// The JSON the HTTP API answers with, written once: the core's views are typed with these, and the
// UI's client (src-renderer/lib/api.ts) reads them. Dependency-free so the renderer can import it.

export type EntityType = 'device' | 'child-device' | 'service'
export type Severity = 'critical' | 'major' | 'minor' | 'warning'
export type AlarmStatus = 'active' | 'acknowledged' | 'cleared'
export type SeriesResolution = 'raw' | 'minute' | 'hour'

export interface HealthView {
  status: string
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
  /** Active (unacknowledged) alarms by severity. */
  activeAlarms: Record<Severity, number>
}

export interface TwinValueView {
  value: unknown
  version: number
  updatedAt: number
}

export interface SeriesView {
  id: number
  type: string
  name: string
  unit: string | null
  lastTime: number | null
  lastValue: number | null
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
  broker: { mode: 'embedded' | 'external'; url: string; connected: boolean }
  ingest: { received: number; rejected: number; values: number; pendingWrites: number }
  store: { file: string; bytes: number }
  entities: number
  pendingRegistrations: string[]
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

/** A configuration type an entity declares (capability `config_snapshot`/`config_update` types). */
export interface ConfigTypeView {
  type: string
  canSnapshot: boolean
  canUpdate: boolean
  latest: ConfigVersionView | null
}
