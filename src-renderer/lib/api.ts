// The typed HTTP client of the UI. Shapes come from the core's src-main/core/api/types.ts; the
// session cookie authenticates every call (same origin), so no token lives in the page.
import type {
  AlarmDetailView,
  AlarmStatus,
  AlarmView,
  AuditEntryView,
  ConfigRestoreInput,
  ConfigTypeView,
  ConfigUpdateInput,
  ConfigVersionDetail,
  ConfigVersionView,
  ConflictView,
  DesiredPatchInput,
  DesiredView,
  EntityDetail,
  EntitySummary,
  EventView,
  OperationDetail,
  OperationRequest,
  OperationView,
  SeriesAnswer,
  SeriesSettings,
  Severity,
  SoftwareView,
  StaleBase,
  StatusView,
  SyncConfigInput,
  SyncConfigView,
  SyncStatusView,
} from '../../src-main/core/api/types'

export type * from '../../src-main/core/api/types'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The answer's JSON, for errors that carry more than a reason (a 409's current version). */
    readonly body?: unknown,
  ) {
    super(message)
  }
}

/** The 409 of a configuration sent from a version that is no longer the latest, else undefined. */
export function staleBase(error: unknown): StaleBase | undefined {
  if (!(error instanceof ApiError) || error.status !== 409) return undefined
  const body = error.body as Partial<StaleBase> | undefined
  return body && 'current' in body ? (body as StaleBase) : undefined
}

/** Called when an answer says the session is gone, so the app can show the login page. */
let onUnauthorized: () => void = () => {}
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler
}

type Query = Record<string, string | number | boolean | undefined>

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

/** Sends a request; an answer that is not 2xx becomes an ApiError with the core's reason. */
async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status === 401) onUnauthorized()
  if (!response.ok) {
    const text = await response.text()
    let message = `${response.status} ${response.statusText}`
    let body: unknown
    try {
      body = JSON.parse(text)
      message = (body as { error?: string }).error ?? message
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message, body)
  }
  return response
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body)
  return (response.status === 204 ? undefined : await response.json()) as T
}

/** One page of a list, with the URL of the next page when there are more rows (its Link header). */
export interface Page<T> {
  items: T[]
  next: string | undefined
}

/** The URL of a Link header's rel="next" (RFC 8288), as the core writes it. */
export function nextPage(link: string | null): string | undefined {
  return link === null ? undefined : /<([^>]+)>\s*;\s*rel="next"/.exec(link)?.[1]
}

async function requestPage<T>(path: string): Promise<Page<T>> {
  const response = await send('GET', path)
  return { items: (await response.json()) as T[], next: nextPage(response.headers.get('link')) }
}

/** Every row of a list, page after page: for what needs all of them (the hierarchy, open alarms). */
async function requestAll<T>(path: string): Promise<T[]> {
  const rows: T[] = []
  for (let next: string | undefined = path; next !== undefined; ) {
    const page: Page<T> = await requestPage<T>(next)
    rows.push(...page.items)
    next = page.next
  }
  return rows
}

/** Rows per request when the UI reads a whole list; the core also stops a page at about 1 MiB. */
const WHOLE_LIST_PAGE = 10_000

/** A file the API answers as text (an operation's log or snapshot); null when there is none (404). */
async function requestText(path: string): Promise<string | null> {
  const response = await fetch(path, { credentials: 'same-origin' })
  if (response.status === 401) onUnauthorized()
  if (response.status === 404) return null
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`)
  return response.text()
}

/** An entity id as one URL path segment (DESIGN §3.2). */
export const entityPath = (id: string) => `/api/v1/entities/${encodeURIComponent(id)}`

export type OperationQuery = {
  entity?: string
  subtree?: boolean
  operation?: string
  /** Statuses to include, or `active` for every command not yet successful or failed. */
  status?: string[] | 'active'
  from?: number
  to?: number
  /** Only operations with a smaller id: the page after one whose smallest id this is. */
  before?: number
  limit?: number
}

export type AuditQuery = {
  entity?: string
  action?: string
  from?: number
  to?: number
  limit?: number
}

export type EventQuery = {
  entity?: string
  subtree?: boolean
  type?: string
  from?: number
  to?: number
  limit?: number
}

export type AlarmQuery = {
  entity?: string
  subtree?: boolean
  status?: AlarmStatus[]
  severity?: Severity[]
  limit?: number
}

const alarmsPath = (query: AlarmQuery) =>
  withQuery('/api/v1/alarms', {
    ...query,
    status: query.status?.join(','),
    severity: query.severity?.join(','),
  })

export type ConflictQuery = {
  status?: ConflictView['status']
  /** An entity's topic id: only its conflicts. */
  entity?: string
  limit?: number
}

/** The export of the audit trail as a link (the answer is a download), with the same filters. */
export const auditExportUrl = (format: 'csv' | 'json', query: Omit<AuditQuery, 'limit'> = {}) =>
  withQuery('/api/v1/audit/export', { format, ...query })

/**
 * Changes to twin fragments by key: a JSON value sets one, null removes it. The core publishes each
 * retained on `te/<entity>/twin/<key>` and audits the edit as `entity.update`.
 */
export type TwinEdit = Record<string, unknown>

/** The file an operation produced, as a link to download it. */
export const operationFileUrl = (id: number) => `/api/v1/operations/${id}/file`

export const api = {
  session: () => request<{ via: 'api' | 'ui' }>('GET', '/api/v1/session'),
  login: (token: string) => request<void>('POST', '/api/v1/session', { token }),
  logout: () => request<void>('DELETE', '/api/v1/session'),
  status: () => request<StatusView>('GET', '/api/v1/status'),
  /** Every entity, however many pages the core answers them in. */
  entities: () => requestAll<EntitySummary>(withQuery('/api/v1/entities', { limit: WHOLE_LIST_PAGE })),
  entity: (id: string) => request<EntityDetail>('GET', entityPath(id)),
  /**
   * Edits twin fragments. The answer (202) only says the core published them: the twin changes when
   * they come back through the bus, and the stream brings that change.
   */
  editTwin: (id: string, twin: TwinEdit) => request<{ twin: TwinEdit }>('PATCH', entityPath(id), { twin }),
  series: (id: number, from: number, to: number, points: number) =>
    request<SeriesAnswer>('GET', withQuery(`/api/v1/series/${id}`, { from, to, points })),
  /** Replaces a series' settings (an empty object removes them); answers what is stored. */
  putSeriesSettings: (id: number, settings: SeriesSettings) =>
    request<{ settings: SeriesSettings | null }>('PUT', `/api/v1/series/${id}/settings`, settings),
  removeSeriesSettings: (id: number) => request<void>('DELETE', `/api/v1/series/${id}/settings`),
  /** The newest events matching `query`: one page; `next` reads the following one. */
  events: (query: EventQuery = {}) => requestPage<EventView>(withQuery('/api/v1/events', query)),
  /** Alarms matching `query`, latest first: one page; `next` reads the following one. */
  alarms: (query: AlarmQuery = {}) => requestPage<AlarmView>(alarmsPath(query)),
  /** Every alarm matching `query` (the open ones, which the UI shows all of). */
  allAlarms: (query: AlarmQuery = {}) =>
    requestAll<AlarmView>(alarmsPath({ limit: WHOLE_LIST_PAGE, ...query })),
  /** The page after one of a list, from its `next`. */
  next: <T>(url: string) => requestPage<T>(url),
  /** One alarm with its history, oldest step first. */
  alarm: (id: number) => request<AlarmDetailView>('GET', `/api/v1/alarms/${id}`),
  acknowledge: (id: number) => request<AlarmView>('POST', `/api/v1/alarms/${id}/acknowledge`),
  clear: (id: number) => request<AlarmView>('POST', `/api/v1/alarms/${id}/clear`),
  /** Sets an open alarm aside for `minutes` (5 to 1440) with a reason. */
  shelve: (id: number, minutes: number, reason: string) =>
    request<AlarmView>('POST', `/api/v1/alarms/${id}/shelve`, { minutes, reason }),
  unshelve: (id: number) => request<AlarmView>('POST', `/api/v1/alarms/${id}/unshelve`),
  comment: (id: number, text: string) =>
    request<AlarmView>('POST', `/api/v1/alarms/${id}/comments`, { text }),
  /** The newest audit entries matching `query`: one page; `next` reads the following one. */
  audit: (query: AuditQuery = {}) => requestPage<AuditEntryView>(withQuery('/api/v1/audit', query)),
  /** Commands matching `query`, newest first: one page; `next` says whether older ones exist. */
  operations: (query: OperationQuery = {}) =>
    requestPage<OperationView>(
      withQuery('/api/v1/operations', {
        ...query,
        status: Array.isArray(query.status) ? query.status.join(',') : query.status,
      }),
    ),
  operation: (id: number) => request<OperationDetail>('GET', `/api/v1/operations/${id}`),
  operationFile: (id: number) => requestText(operationFileUrl(id)),
  requestOperation: (entity: string, body: OperationRequest) =>
    request<OperationView>('POST', `${entityPath(entity)}/operations`, body),
  cancelOperation: (id: number) => request<OperationView>('POST', `/api/v1/operations/${id}/cancel`),
  software: (entity: string) => request<SoftwareView>('GET', `${entityPath(entity)}/software`),
  configs: (entity: string) => request<ConfigTypeView[]>('GET', `${entityPath(entity)}/configs`),
  configVersions: (entity: string, type: string) =>
    request<ConfigVersionView[]>('GET', `${entityPath(entity)}/configs/${encodeURIComponent(type)}/versions`),
  configVersion: (id: number) => request<ConfigVersionDetail>('GET', `/api/v1/config-versions/${id}`),
  /** Sends `content` as a config_update of `type`, edited from version `baseVersion` (409 if stale). */
  updateConfig: (entity: string, type: string, content: string, baseVersion: number | null) =>
    request<OperationView>('POST', `${entityPath(entity)}/configs/${encodeURIComponent(type)}`, {
      content,
      baseVersion,
    } satisfies ConfigUpdateInput),
  /** Sends a stored version again as a config_update, replacing version `baseVersion` (409 if stale). */
  restoreConfig: (id: number, baseVersion: number | null) =>
    request<OperationView>('POST', `/api/v1/config-versions/${id}/restore`, {
      baseVersion,
    } satisfies ConfigRestoreInput),
  syncStatus: () => request<SyncStatusView>('GET', '/api/v1/sync/status'),
  syncConfig: () => request<SyncConfigView>('GET', '/api/v1/sync/config'),
  retrySync: () => request<SyncStatusView>('POST', '/api/v1/sync/retry'),
  /** Changes only the fields given; `null` removes a secret. Secrets are never answered back. */
  updateSyncConfig: (change: SyncConfigInput) =>
    request<SyncConfigView>('PUT', '/api/v1/sync/config', change),
  /** Conflicts between edge and cloud changes of desired properties, newest first. */
  conflicts: (query: ConflictQuery = {}) =>
    request<ConflictView[]>('GET', withQuery('/api/v1/sync/conflicts', query)),
  /** Keeps the side the policy chose, or applies the other side's value as a new change. */
  resolveConflict: (id: number, choice: 'edge' | 'cloud') =>
    request<ConflictView>('POST', `/api/v1/sync/conflicts/${id}/resolve`, { choice }),
  desired: (entity: string) => request<DesiredView>('GET', `${entityPath(entity)}/desired`),
  /** 409 when a property named in `patch` changed after `patch.baseVersion`. */
  patchDesired: (entity: string, patch: DesiredPatchInput) =>
    request<DesiredView>('PATCH', `${entityPath(entity)}/desired`, patch),
  /** Sends desired properties to the device again, unchanged (it reverted them outside EdgeTwin). */
  reapplyDesired: (entity: string, names: string[]) =>
    request<DesiredView>('POST', `${entityPath(entity)}/desired/reapply`, { names }),
}
