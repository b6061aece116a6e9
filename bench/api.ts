import type { SyncConfigInput, SyncConfigView, SyncStatusView } from '../src-main/core/api/types'
import type { SeriesPoint, SeriesResolution } from '../src-main/core/telemetry/series-query'
import type { CoreReady } from './processes'

export interface SeriesInfo {
  id: number
  type: string
  name: string
  lastTime: number | null
  lastValue: number | null
}

export interface SeriesAnswer {
  resolution: SeriesResolution
  points: SeriesPoint[]
}

export interface Status {
  ingest: { received: number; rejected: number; values: number; pendingWrites: number }
  entities: number
}

/** The core's HTTP API with its bearer token: reads, and the sync configuration of (l, m). */
export class Api {
  constructor(private readonly ready: CoreReady) {}

  /** `timeoutMs`: give up (throw) when no answer came by then. */
  get<T>(pathname: string, timeoutMs?: number): Promise<T> {
    return this.request<T>('GET', pathname, undefined, timeoutMs)
  }

  private async request<T>(method: string, pathname: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const response = await fetch(new URL(pathname, this.ready.http), {
      method,
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      headers: {
        authorization: `Bearer ${this.ready.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text.slice(0, 300)}`)
    return JSON.parse(text) as T
  }

  syncStatus(): Promise<SyncStatusView> {
    return this.get<SyncStatusView>('/api/v1/sync/status')
  }

  configureSync(input: SyncConfigInput): Promise<SyncConfigView> {
    return this.request<SyncConfigView>('PUT', '/api/v1/sync/config', input)
  }

  status(): Promise<Status> {
    return this.get<Status>('/api/v1/status')
  }

  async seriesOf(topicId: string): Promise<SeriesInfo[]> {
    return (await this.get<{ series: SeriesInfo[] }>(`/api/v1/entities/${encodeURIComponent(topicId)}`))
      .series
  }

  series(id: number, from: number, to: number, points: number): Promise<SeriesAnswer> {
    return this.get<SeriesAnswer>(`/api/v1/series/${id}?from=${from}&to=${to}&points=${points}`)
  }

  /** Stored values of a series in [from, to): the sum of bucket counts of a series query. */
  async storedCount(id: number, from: number, to: number): Promise<number> {
    const answer = await this.series(id, from, to, 10_000)
    return answer.points.reduce((sum, p) => sum + p.count, 0)
  }
}
