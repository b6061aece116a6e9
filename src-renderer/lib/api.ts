// The typed HTTP client of the UI. Shapes come from the core's src-main/core/api/types.ts; the
// session cookie authenticates every call (same origin), so no token lives in the page.
import type {
  AlarmStatus,
  AlarmView,
  AuditEntryView,
  EntityDetail,
  EntitySummary,
  EventView,
  SeriesAnswer,
  Severity,
  StatusView,
} from '../../src-main/core/api/types'

export type * from '../../src-main/core/api/types'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
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
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message)
  }
  return (response.status === 204 ? undefined : await response.json()) as T
}

/** An entity id as one URL path segment (DESIGN §3.2). */
export const entityPath = (id: string) => `/api/v1/entities/${encodeURIComponent(id)}`

export const api = {
  session: () => request<{ via: 'api' | 'ui' }>('GET', '/api/v1/session'),
  login: (token: string) => request<void>('POST', '/api/v1/session', { token }),
  logout: () => request<void>('DELETE', '/api/v1/session'),
  status: () => request<StatusView>('GET', '/api/v1/status'),
  entities: () => request<EntitySummary[]>('GET', '/api/v1/entities'),
  entity: (id: string) => request<EntityDetail>('GET', entityPath(id)),
  series: (id: number, from: number, to: number, points: number) =>
    request<SeriesAnswer>('GET', withQuery(`/api/v1/series/${id}`, { from, to, points })),
  events: (
    query: {
      entity?: string
      subtree?: boolean
      type?: string
      from?: number
      to?: number
      limit?: number
    } = {},
  ) => request<EventView[]>('GET', withQuery('/api/v1/events', query)),
  alarms: (
    query: {
      entity?: string
      subtree?: boolean
      status?: AlarmStatus[]
      severity?: Severity[]
      limit?: number
    } = {},
  ) =>
    request<AlarmView[]>(
      'GET',
      withQuery('/api/v1/alarms', {
        ...query,
        status: query.status?.join(','),
        severity: query.severity?.join(','),
      }),
    ),
  acknowledge: (id: number) => request<AlarmView>('POST', `/api/v1/alarms/${id}/acknowledge`),
  clear: (id: number) => request<AlarmView>('POST', `/api/v1/alarms/${id}/clear`),
  audit: (query: { entity?: string; action?: string; limit?: number } = {}) =>
    request<AuditEntryView[]>('GET', withQuery('/api/v1/audit', query)),
}
