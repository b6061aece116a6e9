// Handlers: how a state's `on_*` keys are read and checked, and where each outcome then leads — the
// next status, its reason, and the fields a script hands over. Rules follow
// crates/core/tedge_api/src/workflow/handlers.rs and toml_config.rs, noting where the docs are
// followed instead.
import type { ExitRange, ScriptResult, StateDefinition, Transition, WorkflowDefinition } from './model'
import { signalNumber } from './script'

export type Defaults = WorkflowDefinition['defaults']
export type Table = Record<string, unknown>

export const SUCCESSFUL: Transition = { status: 'successful' }
export const FAILED: Transition = { status: 'failed' }
/** `GenericStateUpdate::timeout()`, the default `on_timeout`. */
export const TIMEOUT: Transition = { status: 'failed', reason: 'timeout' }

/** A workflow file is not valid; the message is the detail of thin-edge's reason. */
export class DefinitionError extends Error {}

/** A transition plus the `:::begin-tedge:::` fields to merge into the payload (never status/reason). */
export interface StateUpdate extends Transition {
  fields?: Record<string, unknown>
}

/** `ScriptRun` from script.ts; a plain ScriptResult without `output` reads as "no tedge block". */
type Outcome = ScriptResult & { outputError?: string }

/**
 * The next state after a `script`:
 * - exit 0: `on_success` (or `on_exit.0`), with the script's JSON fields and its `reason` if it gave
 *   one; without `on_success` the JSON's own `status` is the next state (`on_stdout`), and no JSON
 *   fails with ``Program `<p>` stdout contains no :::tedge::: content``.
 * - exit N in an `on_exit` range: that handler, with the JSON fields.
 * - any other exit: the `on_error` status with the JSON `reason`, else `<p> returned exit code N`
 *   (thin-edge replaces the handler's own reason here; its docs say `exited with`).
 * - killed: `on_kill`, else failed `<p> killed by signal N`. A timeout is a kill by SIGTERM, as
 *   tedge_script_ext signals the script on `timeout_second`; `on_timeout` is not used for scripts.
 * - not started: `on_error`.
 */
export function scriptTransition(
  state: StateDefinition,
  workflow: WorkflowDefinition,
  result: Outcome,
): StateUpdate {
  const { program, exit, output } = result
  const onError = state.onError ?? workflow.defaults.onError ?? FAILED
  switch (exit.kind) {
    case 'spawn-failed':
      // thin-edge keeps the handler's reason, which the injected default lacks; say why instead.
      return {
        status: onError.status,
        reason: onError.reason ?? `Failed to launch ${program}: ${exit.error}`,
      }
    case 'killed':
    case 'timeout': {
      const signal = signalNumber(exit.kind === 'killed' ? exit.signal : 'SIGTERM')
      return state.onKill
        ? { ...state.onKill }
        : { status: 'failed', reason: `${program} killed by signal ${signal}` }
    }
    case 'exited':
      break
  }
  const stdoutError = `Program \`${program}\` stdout ${result.outputError ?? 'contains no :::tedge::: content'}`
  if (exit.code === 0) {
    if (state.onSuccess) return withOutput(state.onSuccess, output)
    if (!output) return { status: 'failed', reason: stdoutError }
    const status = output.status
    // thin-edge would keep the current status (and rerun the state); its docs say `on_error` is used.
    if (typeof status !== 'string') {
      return { status: onError.status, reason: `Program \`${program}\` stdout gives no status` }
    }
    // thin-edge does not check the list; its docs say it lists "all the states that can possibly be dictated".
    if (state.onStdout && !state.onStdout.includes(status)) {
      return {
        status: onError.status,
        reason: `Program \`${program}\` stdout status "${status}" is not one of on_stdout`,
      }
    }
    return withOutput({ status }, output)
  }
  const range = state.onExit.find((r) => r.from <= exit.code && exit.code <= r.to)
  if (range) return withOutput(range.transition, output)
  const reason =
    typeof output?.reason === 'string' ? output.reason : `${program} returned exit code ${exit.code}`
  return { status: onError.status, reason }
}

/** What a builtin action (`download`, `upload`, `builtin:<op>:<step>`) produced. */
export type ActionResult = { ok: true; fields?: Record<string, unknown> } | { ok: false; error: string }

/**
 * `state_update_on_result`: success → `on_success` (default `successful`) with the action's fields;
 * failure → the `on_error` status with reason `builtin '<action>' action failed with: <error>`,
 * which always wins over the handler's reason.
 */
export function builtinActionTransition(
  state: StateDefinition,
  workflow: WorkflowDefinition,
  result: ActionResult,
): StateUpdate {
  if (result.ok) return withOutput(state.onSuccess ?? { status: 'successful' }, result.fields)
  const onError = state.onError ?? workflow.defaults.onError ?? FAILED
  return {
    status: onError.status,
    reason: `builtin '${actionName(state)}' action failed with: ${result.error}`,
  }
}

/**
 * The init payload an `input_script` produced (`extract_json_output`), or why the command fails:
 * thin-edge moves the calling command to `failed` with this reason and creates no sub-command.
 */
export function inputScriptOutput(
  result: Outcome,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  const { program, exit } = result
  const fail = (detail: string) => ({ ok: false as const, reason: `Program \`${program}\` ${detail}` })
  switch (exit.kind) {
    case 'spawn-failed':
      return fail(`cannot be launched: ${exit.error}`)
    case 'killed':
      return fail(`has been killed by SIG${signalNumber(exit.signal)}`)
    case 'timeout':
      return fail(`has been killed by SIG${signalNumber('SIGTERM')}`)
    case 'exited':
      if (exit.code !== 0) return fail(`failed with exit code ${exit.code}`)
  }
  if (!result.output) return fail(`stdout ${result.outputError ?? 'contains no :::tedge::: content'}`)
  return { ok: true, value: result.output }
}

// `GenericStateUpdate::inject_into_json`: the handler's status always wins; the output's `reason`
// wins over the handler's.
function withOutput(transition: Transition, output: Record<string, unknown> | undefined): StateUpdate {
  if (!output) return { ...transition }
  const { status: _status, reason, ...fields } = output
  const update: StateUpdate = { status: transition.status }
  const finalReason = typeof reason === 'string' ? reason : transition.reason
  if (finalReason !== undefined) update.reason = finalReason
  if (Object.keys(fields).length > 0) update.fields = fields
  return update
}

function actionName(state: StateDefinition): string {
  const { action } = state
  if (action.kind === 'builtin-step') return `builtin:${action.operation}:${action.step}`
  if (action.kind === 'builtin-action') return action.name
  return action.kind
}

/** The handler keys of one state, type-checked but not yet resolved for its action. */
export interface Handlers {
  onSuccess?: Transition
  onError?: Transition
  onKill?: Transition
  onExec?: Transition
  onTimeout?: Transition
  onNext?: Transition
  onExit: ExitRange[]
  /** `on_exit._` */
  wildcard?: Transition
  onStdout: string[]
  timeoutSeconds?: number
}

/** Every state's handler keys are type-checked, whatever its action uses (serde reads them all). */
export function readHandlers(table: Table): Handlers {
  const onStdout = table.on_stdout ?? []
  if (!Array.isArray(onStdout) || !onStdout.every((status) => typeof status === 'string')) {
    throw new DefinitionError('invalid type for `on_stdout`: expected an array of state names')
  }
  const h: Handlers = {
    onSuccess: optionalTransition(table, 'on_success'),
    onError: optionalTransition(table, 'on_error'),
    onKill: optionalTransition(table, 'on_kill'),
    onExec: optionalTransition(table, 'on_exec'),
    onTimeout: optionalTransition(table, 'on_timeout'),
    onNext: optionalTransition(table, 'on_next'),
    timeoutSeconds: optionalTimeout(table),
    onStdout,
    onExit: [],
  }
  const onExit = table.on_exit ?? {}
  if (!isTable(onExit)) throw new DefinitionError('invalid type for `on_exit`: expected a table')
  for (const [codes, value] of Object.entries(onExit)) {
    const transition = toTransition(value, `on_exit.${codes}`)
    if (codes === '_') {
      h.wildcard = transition
      continue
    }
    // `ExitCodes::from_str`: `N` or `N-M`, each an exit status (u8).
    const match = /^(\d+)(?:-(\d+))?$/.exec(codes)
    const from = Number(match?.[1])
    const to = Number(match?.[2] ?? match?.[1])
    if (!match || from > 255 || to > 255) {
      throw new DefinitionError(`invalid exit: ${codes}: expected N, N-M or _`)
    }
    h.onExit.push({ from, to, transition })
  }
  return h
}

/**
 * `ExitHandlers::try_new`, for scripts, downloads, uploads and builtin steps. `on_exit.0` (or a range
 * from 0) is the success handler; `on_exit._` is the error handler, else the default `on_error`.
 */
export function exitHandlers(state: StateDefinition, h: Handlers, defaults: Defaults): StateDefinition {
  let onError = h.onError
  if (h.wildcard) {
    if (onError) throw new DefinitionError("Error handler provided for 'on_error' and 'on_exit._'")
    onError = h.wildcard
  }
  const sorted = [...h.onExit].sort((a, b) => a.from - b.from)
  let onSuccess = h.onSuccess
  if (sorted[0]?.from === 0) {
    if (onSuccess) throw new DefinitionError("Successful handler provided for 'on_success' and 'on_exit.0'")
    onSuccess = sorted[0].transition
  }
  if (onSuccess && h.onStdout.length > 0) {
    throw new DefinitionError("Successful handler provided for 'on_success' and 'on_stdout'")
  }
  let previous: ExitRange | undefined
  for (const range of sorted) {
    if (range.to < range.from) {
      throw new DefinitionError(
        `Invalid exit code range '${range.from}-${range.to}' as ${range.from}>${range.to}`,
      )
    }
    if (previous && range.from <= previous.to) {
      throw new DefinitionError(
        `Overlapping handlers provided for '${previous.from}-${previous.to}' and '${range.from}-${range.to}' exit code ranges`,
      )
    }
    previous = range
  }
  return {
    ...state,
    onExit: h.onExit,
    onSuccess,
    onError: onError ?? defaults.onError ?? FAILED,
    onKill: h.onKill,
    onStdout: h.onStdout.length > 0 ? h.onStdout : undefined,
    timeoutSeconds: h.timeoutSeconds ?? defaults.timeoutSeconds,
  }
}

/** `AwaitHandlers`: `on_success` is required; error, timeout and the timeout itself fall back to the defaults. */
export function awaitHandlers(state: StateDefinition, h: Handlers, defaults: Defaults): StateDefinition {
  if (!h.onSuccess) throw new DefinitionError("No handler is provided for 'on_success'")
  return {
    ...state,
    onSuccess: h.onSuccess,
    onError: h.onError ?? defaults.onError ?? FAILED,
    onTimeout: h.onTimeout ?? defaults.onTimeout ?? TIMEOUT,
    timeoutSeconds: h.timeoutSeconds ?? defaults.timeoutSeconds,
  }
}

export function optionalTransition(table: Table, key: string): Transition | undefined {
  return table[key] === undefined ? undefined : toTransition(table[key], key)
}

/** `TomlStateUpdate`: `"state"` or `{ status = "state", reason = "…" }`. */
function toTransition(value: unknown, key: string): Transition {
  if (typeof value === 'string') return { status: value }
  if (isTable(value) && typeof value.status === 'string') {
    if (value.reason === undefined) return { status: value.status }
    if (typeof value.reason === 'string') return { status: value.status, reason: value.reason }
  }
  throw new DefinitionError(
    `invalid handler \`${key}\`: expected "<state>" or { status = "<state>", reason = "…" }`,
  )
}

export function optionalTimeout(table: Table): number | undefined {
  const value = table.timeout_second
  if (value === undefined) return undefined
  // A u64 number of seconds.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new DefinitionError('invalid type for `timeout_second`: expected a non-negative integer')
  }
  return value
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}
