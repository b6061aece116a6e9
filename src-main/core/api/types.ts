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
