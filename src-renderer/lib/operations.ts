// What the operations UI knows about thin-edge.io commands (`te/<entity>/cmd/<operation>/<id>`):
// which form an operation gets, the payloads the thin-edge agent expects, and how a list of
// commands follows the stream.
import type { OperationView } from './api'
import { jsonErrorText } from './error-text'

/** Operations with a form of their own, in the order they are offered; others get the JSON editor. */
export const FORM_OPERATIONS = [
  'restart',
  'software_list',
  'software_update',
  'config_snapshot',
  'config_update',
  'log_upload',
  'firmware_update',
] as const
export type FormOperation = (typeof FORM_OPERATIONS)[number]

export const hasOwnForm = (operation: string): operation is FormOperation =>
  (FORM_OPERATIONS as readonly string[]).includes(operation)

/** The entity's operations: those with a form in their usual order, then the rest by name. */
export function orderOperations(names: string[]): string[] {
  const known = FORM_OPERATIONS.filter((name) => names.includes(name))
  return [...known, ...names.filter((name) => !hasOwnForm(name)).sort()]
}

/** The `types` a capability declares (software, configuration or log types), of one or more operations. */
export function capabilityTypes(capabilities: Record<string, unknown>, ...operations: string[]): string[] {
  const types = operations.flatMap((operation) => {
    const declared = (capabilities[operation] as { types?: unknown } | undefined)?.types
    return Array.isArray(declared) ? declared.filter((t): t is string => typeof t === 'string') : []
  })
  return [...new Set(types)]
}

export type Tone = 'ok' | 'failed' | 'running'

/** `successful` and `failed` end a command; any other status, including a workflow's own, is progress. */
export function statusTone(status: string): Tone {
  if (status === 'successful') return 'ok'
  if (status === 'failed') return 'failed'
  return 'running'
}

/** One change of a software_update request. */
export interface ModuleChange {
  type: string
  name: string
  version: string
  url?: string
  action: 'install' | 'remove'
}

export interface UpdateListEntry {
  type: string
  modules: Array<{ name: string; version?: string; url?: string; action: 'install' | 'remove' }>
}

/**
 * The `updateList` of a thin-edge software_update command: the modules grouped by software type.
 * A remove may omit the version (the agent then removes whatever is installed).
 */
export function updateList(changes: ModuleChange[]): UpdateListEntry[] {
  const byType = new Map<string, UpdateListEntry>()
  for (const { type, name, version, url, action } of changes) {
    const entry = byType.get(type) ?? { type, modules: [] }
    byType.set(type, entry)
    entry.modules.push({
      name,
      ...(version ? { version } : {}),
      ...(url ? { url } : {}),
      action,
    })
  }
  return [...byType.values()]
}

export type Parsed = { payload: Record<string, unknown>; error?: undefined } | { error: string }

/** The JSON payload editor's text as an `init` payload: an object, without `status` (EdgeTwin sets it). */
export function parsePayload(text: string): Parsed {
  let value: unknown
  try {
    value = JSON.parse(text.trim() || '{}')
  } catch (error) {
    return { error: `${jsonErrorText(error, text.trim() || '{}')}.` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'The payload must be a JSON object, like {"name": "value"}.' }
  if ('status' in value) return { error: 'Leave out "status": EdgeTwin sends the command as "init".' }
  return { payload: value as Record<string, unknown> }
}

/** Whether a URL is one a device can download from. */
export function isDownloadUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}

/** The filters of an operation list, as the API takes them. */
export interface OperationFilter {
  entity?: string
  operation?: string
  status?: string[] | 'active'
  from?: number
  to?: number
}

/** Whether a command changed on the stream belongs in a list with these filters. */
export function matches(operation: OperationView, filter: OperationFilter): boolean {
  const { status } = filter
  return (
    (!filter.entity || operation.entity === filter.entity) &&
    (!filter.operation || operation.operation === filter.operation) &&
    (status === undefined ||
      (status === 'active' ? !operation.terminal : status.includes(String(operation.status)))) &&
    (filter.from === undefined || operation.createdAt >= filter.from) &&
    (filter.to === undefined || operation.createdAt <= filter.to)
  )
}

/**
 * The list with `operation` in it, newest first. A request's answer can arrive after the stream
 * already carried a later state, so an older copy never replaces a newer one.
 */
export function upsert(list: OperationView[], operation: OperationView): OperationView[] {
  const current = list.find((o) => o.id === operation.id)
  if (current && current.updatedAt > operation.updatedAt) return list
  return [operation, ...list.filter((o) => o.id !== operation.id)].sort(
    (a, b) => b.createdAt - a.createdAt || b.id - a.id,
  )
}
