// The simulated filling line as the API describes it, for component tests: a Twin filled in by
// hand (no network), a `fetch` that answers like the core does, and a stand-in for its stream.
import { vi } from 'vitest'
import type { StreamChange } from '../../src-main/core/api/stream-protocol'
import type {
  AlarmView,
  EntityDetail,
  EntitySummary,
  HealthStatus,
  SeriesView,
  Severity,
} from '../../src-renderer/lib/api'
import { Twin } from '../../src-renderer/lib/twin.svelte'

const NOW = Date.parse('2026-05-04T10:00:00Z')
const noAlarms = (): Record<Severity, number> => ({ critical: 0, major: 0, minor: 0, warning: 0 })

export function entity(
  id: string,
  name: string,
  parent: string | null,
  type: EntitySummary['type'] = 'child-device',
  health: string | null = null,
): EntitySummary {
  return {
    id,
    type,
    parent,
    externalId: null,
    name,
    health:
      health === null
        ? null
        : {
            status: health as HealthStatus,
            reported: health,
            reason: `reported ${health}`,
            updatedAt: NOW,
            source: 'own',
          },
    lastSeen: NOW,
    activeAlarms: noAlarms(),
  }
}

export const LINE: EntitySummary[] = [
  entity('device/main//', 'Filling Line 3', null, 'device'),
  entity('device/main/service/edgetwin', 'edgetwin', 'device/main//', 'service', 'up'),
  entity('device/tank//', 'Buffer Tank T-301', 'device/main//'),
  entity('device/filler//', 'Filler PLC', 'device/main//', 'child-device', 'up'),
  entity('device/valve-bank//', 'Fill Valve Bank', 'device/filler//'),
  entity('device/conveyor//', 'Outfeed Conveyor', 'device/main//'),
  entity('device/conveyor-drive//', 'Conveyor Drive VFD', 'device/conveyor//', 'child-device', 'down'),
  entity('device/main/service/line-controller', 'line-controller', 'device/main//', 'service', 'up'),
  entity('device/filler/service/plc-runtime', 'plc-runtime', 'device/filler//', 'service', 'up'),
  entity(
    'device/conveyor-drive/service/condition-monitoring',
    'condition-monitoring',
    'device/conveyor-drive//',
    'service',
    'down',
  ),
]

let nextSeries = 1
export function series(type: string, name: string, unit: string | null, lastValue: number): SeriesView {
  // No expected period yet (as for a series with too few values): never stale in these tests.
  return {
    id: nextSeries++,
    type,
    name,
    unit,
    lastTime: NOW,
    lastValue,
    expectedPeriod: null,
    periodSource: null,
    staleAfter: null,
    stale: false,
  }
}

export const SERIES: Record<string, SeriesView[]> = {
  'device/main//': [series('line', 'throughput', 'bottles/min', 106.3)],
  'device/tank//': [series('tank', 'level', '%', 52.99), series('tank', 'temperature', '°C', 6.31)],
  'device/filler//': [
    series('filling', 'fill_pressure', 'bar', 2.577),
    series('filling', 'speed', 'bottles/min', 120),
  ],
  'device/valve-bank//': [series('valves', 'valves.v1', 'L/min', 9.81)],
  'device/conveyor//': [series('conveyor', 'speed', 'm/s', 0.449)],
  'device/conveyor-drive//': [series('drive', 'motor_temperature', '°C', 37.57)],
}

let nextAlarm = 1
export function alarm(
  entityId: string,
  type: string,
  severity: Severity,
  status: AlarmView['status'] = 'active',
  text = `${type} on ${entityId}`,
): AlarmView {
  return {
    id: nextAlarm++,
    entity: entityId,
    type,
    severity,
    text,
    status,
    count: 1,
    firstTime: NOW - 60_000,
    lastTime: NOW - 30_000,
    payload: { text, severity },
    acknowledgedAt: status === 'acknowledged' ? NOW : null,
    acknowledgedBy: status === 'acknowledged' ? 'ui' : null,
    clearedAt: status === 'cleared' ? NOW : null,
    clearedBy: status === 'cleared' ? 'device' : null,
    shelvedUntil: null,
    shelvedBy: null,
    shelveReason: null,
    comments: [],
    firstOut: false,
    occurrences: [NOW - 30_000],
  }
}

/** A twin as `start()` would leave it, without a network. */
export function lineTwin(entities: EntitySummary[] = LINE, alarms: AlarmView[] = []): Twin {
  const twin = new Twin()
  for (const e of entities) twin.entities.set(e.id, e)
  twin.alarms = alarms
  twin.connection = 'live'
  return twin
}

export function detail(summary: EntitySummary): EntityDetail {
  return {
    ...summary,
    registration: { '@type': summary.type, name: summary.name },
    autoRegistered: false,
    registeredAt: NOW - 3_600_000,
    healthEndpoint: null,
    twin: {},
    config: null,
    capabilities: {},
    children: LINE.filter((e) => e.parent === summary.id).map((e) => e.id),
    series: SERIES[summary.id] ?? [],
  }
}

export type Handler = (request: { method: string; url: URL; body: unknown }) => unknown

/**
 * Stubs `fetch` with JSON answers like the core's: `handler` returns the body, a Response, or a
 * promise of either (to hold an answer back); undefined → 404. Returns the mock so tests can look
 * at the calls.
 */
export function stubApi(handler: Handler) {
  const mock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://127.0.0.1:8000')
    const method = init?.method ?? 'GET'
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    const answer = await handler({ method, url, body })
    if (answer === undefined)
      return new Response(JSON.stringify({ error: `no route ${method} ${url.pathname}` }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      })
    if (answer instanceof Response) return answer
    return new Response(JSON.stringify(answer), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    })
  })
  vi.stubGlobal('fetch', mock)
  return mock
}

/**
 * A list answer as the core pages it: the rows, and when `next` is given a Link header with the
 * URL of the following page (rel="next").
 */
export function pageAnswer(rows: unknown[], next?: string): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (next !== undefined) headers.link = `<${next}>; rel="next"`
  return new Response(JSON.stringify(rows), { status: 200, headers })
}

/** Entity details for GET /api/v1/entities/{id}, from LINE. */
export const entityDetails: Handler = ({ method, url }) => {
  const match = /^\/api\/v1\/entities\/([^/]+)$/.exec(url.pathname)
  if (method !== 'GET' || !match) return undefined
  const summary = LINE.find((e) => e.id === decodeURIComponent(match[1] as string))
  return summary && detail(summary)
}

/**
 * Stubs the /api/v1/stream WebSocket for a Twin that is `start()`ed: `open()` it, then `push()`
 * changes as one frame, as the core sends them.
 */
export function stubStream() {
  let socket: FakeSocket | undefined
  class FakeSocket {
    onopen: (() => void) | null = null
    onmessage: ((message: { data: string }) => void) | null = null
    onclose: (() => void) | null = null
    constructor(readonly url: string) {
      socket = this
    }
    close() {}
  }
  vi.stubGlobal('WebSocket', FakeSocket)
  return {
    open: () => socket?.onopen?.(),
    push: (...changes: StreamChange[]) =>
      socket?.onmessage?.({
        data: JSON.stringify({ type: 'changes', time: Date.now(), changes, droppedEvents: 0 }),
      }),
  }
}
