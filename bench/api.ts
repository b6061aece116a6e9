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

/** The core's HTTP API with its bearer token (GET only; that is all the bench reads). */
export class Api {
  constructor(private readonly ready: CoreReady) {}

  async get<T>(pathname: string): Promise<T> {
    const response = await fetch(new URL(pathname, this.ready.http), {
      headers: { authorization: `Bearer ${this.ready.token}` },
    })
    const body = await response.text()
    if (!response.ok) throw new Error(`GET ${pathname}: ${response.status} ${body.slice(0, 300)}`)
    return JSON.parse(body) as T
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
