// Commands, configuration versions and a fake core answering the operations endpoints, for the
// operations UI's component tests.
import type {
  ConfigVersionDetail,
  EntityDetail,
  OperationDetail,
  OperationStateView,
  OperationView,
} from '../../src-renderer/lib/api'
import { detail, type Handler, LINE } from './line-fixture'

export const NOW = Date.parse('2026-05-04T10:00:00Z')
export const FILLER = 'device/filler//'
export const FILLER_PATH = `/api/v1/entities/${encodeURIComponent(FILLER)}`

/** The filler as a device that accepts every kind of operation the UI has a form for, and one more. */
export function filler(): EntityDetail {
  const summary = LINE.find((e) => e.id === FILLER)
  if (!summary) throw new Error('no filler in LINE')
  return {
    ...detail(summary),
    capabilities: {
      restart: {},
      software_list: { types: ['apt', 'container'] },
      software_update: { types: ['apt', 'container'] },
      config_snapshot: { types: ['plc.conf', 'recipes.json'] },
      config_update: { types: ['plc.conf', 'recipes.json'] },
      log_upload: { types: ['plc-runtime', 'syslog'] },
      firmware_update: {},
      device_profile: {},
      calibrate_scale: {},
    },
  }
}

export function operation(overrides: Partial<OperationView> = {}): OperationView {
  const id = overrides.id ?? 1
  return {
    id,
    entity: FILLER,
    operation: 'restart',
    cmdId: `edgetwin-${id}`,
    status: 'init',
    terminal: false,
    reason: null,
    payload: {},
    requestedBy: 'ui',
    executor: 'external',
    workflowVersion: null,
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    finishedAt: null,
    cancellable: false,
    parent: null,
    ...overrides,
  }
}

export const state = (status: string, time: number, reason: string | null = null): OperationStateView => ({
  status,
  time,
  reason,
  payload: { status, ...(reason ? { reason } : {}) },
})

export function operationDetail(
  view: OperationView,
  states: OperationStateView[],
  log: string | null = null,
): OperationDetail {
  return { ...view, states, log }
}

export function version(
  id: number,
  number: number,
  content: string,
  source: ConfigVersionDetail['source'] = 'snapshot',
): ConfigVersionDetail {
  return {
    id,
    entity: FILLER,
    type: 'plc.conf',
    version: number,
    sha256: `sha-${id}`,
    size: content.length,
    source,
    operationId: null,
    actor: source === 'snapshot' ? null : 'ui',
    time: NOW - (10 - number) * 3_600_000,
    path: '/etc/plc/plc.conf',
    content,
  }
}

export interface Request {
  method: string
  url: URL
  body: unknown
}

/** Records every request a handler answers, so tests can look at what was sent. */
export function recording(handler: Handler): { handler: Handler; requests: Request[] } {
  const requests: Request[] = []
  return {
    requests,
    handler: (request) => {
      requests.push(request)
      return handler(request)
    },
  }
}

/** The bodies of the POSTs to `path`. */
export const posted = (requests: Request[], path: string) =>
  requests.filter((r) => r.method === 'POST' && r.url.pathname === path).map((r) => r.body)

export const failWith = (status: number, error: string) =>
  new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json' } })
