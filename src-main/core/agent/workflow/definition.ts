// Reading a thin-edge.io operation workflow TOML file (reference §3.4) into a WorkflowDefinition.
// Rules follow crates/core/tedge_api/src/workflow/toml_config.rs, mod.rs (`OperationWorkflow::try_new`)
// and handlers.rs; defaults that thin-edge resolves while parsing are resolved here too, so every
// handler the engine needs is present on the state.
import { createHash } from 'node:crypto'
import { parse, TomlError } from 'smol-toml'
import type { Action, StateDefinition, Transition, WorkflowDefinition } from './model'
import { CommandLineError, splitCommandLine } from './script'
import { pathOf } from './templates'
import {
  awaitHandlers,
  type Defaults,
  DefinitionError,
  exitHandlers,
  FAILED,
  type Handlers,
  isTable,
  optionalTimeout,
  optionalTransition,
  readHandlers,
  SUCCESSFUL,
  type Table,
  TIMEOUT,
} from './transitions'

// The engine reads outcome resolution next to the definition.
export { scriptTransition } from './transitions'

/** Handler keys, read from every state and also from the top level (where only three are used). */
const HANDLER_KEYS = new Set(
  'on_success on_error on_kill on_exit timeout_second on_timeout on_stdout on_exec on_next'.split(' '),
)
const ACTION_KEYS = ['script', 'background_script', 'action', 'operation', 'iterate'] as const

/**
 * Parse and validate a workflow file. Never throws: an unusable file gives thin-edge's placeholder
 * workflow (init → executing → failed) whose `invalid` reason is `Invalid operation workflow
 * definition "<path>": <detail>` (tedge_agent operation_workflows/persist.rs).
 *
 * When not even the `operation` can be read (TOML syntax error, no `operation` string) thin-edge
 * ignores the file altogether; the placeholder then has `operation = ""` and must not be registered.
 */
export function parseWorkflow(text: string, source: string): WorkflowDefinition {
  // `@version` is the sha256 of the file content, whether or not it is valid (persist.rs).
  const version = createHash('sha256').update(text, 'utf8').digest('hex')
  const invalid = (operation: string, detail: string): WorkflowDefinition =>
    placeholderWorkflow(operation, source, invalidReason(source, detail), version)

  let document: Table
  try {
    document = parse(text)
  } catch (error) {
    return invalid('', tomlErrorText(error))
  }
  const operation = document.operation
  if (operation === undefined) return invalid('', 'missing field `operation`')
  if (typeof operation !== 'string') return invalid('', 'invalid type for `operation`: expected a string')
  try {
    return { ...readWorkflow(operation, document), version, source }
  } catch (error) {
    return invalid(operation, error instanceof Error ? error.message : String(error))
  }
}

/** thin-edge's `OperationWorkflow::ill_formed`: every command fails at once with `reason`. */
export function placeholderWorkflow(
  operation: string,
  source: string,
  reason: string,
  version = 'invalid',
): WorkflowDefinition {
  const states = [
    stateOf('init', { kind: 'proceed' }, { onSuccess: { status: 'executing' } }),
    stateOf('executing', { kind: 'proceed' }, { onSuccess: { status: 'failed', reason } }),
    stateOf('failed', { kind: 'cleanup' }),
  ]
  return { operation, version, source, states: byName(states), defaults: {}, invalid: reason }
}

/**
 * Statuses a handler leads to that no state of this workflow defines. thin-edge accepts them: such a
 * state belongs to another participant and the agent just waits (operation-workflow.md).
 */
export function externalStates(workflow: WorkflowDefinition): string[] {
  const targets = new Set<string>()
  for (const state of workflow.states.values()) {
    const { onSuccess, onError, onKill, onExec, onTimeout, onNext } = state
    for (const handler of [onSuccess, onError, onKill, onExec, onTimeout, onNext]) {
      if (handler) targets.add(handler.status)
    }
    for (const range of state.onExit) targets.add(range.transition.status)
    for (const status of state.onStdout ?? []) targets.add(status)
  }
  return [...targets].filter((status) => !workflow.states.has(status)).sort()
}

function invalidReason(source: string, detail: string): string {
  return `Invalid operation workflow definition ${JSON.stringify(source)}: ${detail}`
}

function tomlErrorText(error: unknown): string {
  if (error instanceof TomlError) {
    return `TOML parse error at line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}`
  }
  return `TOML parse error: ${error instanceof Error ? error.message : String(error)}`
}

function readWorkflow(operation: string, document: Table): Omit<WorkflowDefinition, 'version' | 'source'> {
  // thin-edge accepts any string; these would break the command topic `te/<id>/cmd/<op>/<cmd-id>`.
  if (operation === '' || /[/+#]/.test(operation) || operation.includes('\0')) {
    throw new DefinitionError(`invalid operation name ${JSON.stringify(operation)}`)
  }
  const defaults: Defaults = {
    onError: optionalTransition(document, 'on_error'),
    onTimeout: optionalTransition(document, 'on_timeout'),
    timeoutSeconds: optionalTimeout(document),
  }

  const states = new Map<string, StateDefinition>()
  for (const [name, value] of Object.entries(document)) {
    // Top-level handler keys go to the workflow defaults (serde `flatten`), never to a state.
    if (name === 'operation' || HANDLER_KEYS.has(name)) continue
    if (!isTable(value)) throw new DefinitionError(`[${name}] a state must be a table`)
    try {
      states.set(name, readState(name, value, operation, defaults))
    } catch (error) {
      if (error instanceof DefinitionError) throw new DefinitionError(`[${name}] ${error.message}`)
      throw error
    }
  }

  // `OperationWorkflow::try_new`: only `init` is mandatory; `successful` and `failed` may be omitted
  // (they are then added) but must be `cleanup` if given.
  if (!states.has('init')) throw new DefinitionError('Missing mandatory state: init')
  for (const terminal of ['successful', 'failed']) {
    const state = states.get(terminal)
    if (!state) states.set(terminal, stateOf(terminal, { kind: 'cleanup' }))
    else if (state.action.kind !== 'cleanup') {
      throw new DefinitionError(`Invalid action on ${terminal} state: ${state.action.kind}`)
    }
  }
  return { operation, states, defaults }
}

function readState(name: string, table: Table, operation: string, defaults: Defaults): StateDefinition {
  const given = ACTION_KEYS.filter((key) => table[key] !== undefined)
  // thin-edge silently uses one of them; two actions in one state is always a mistake.
  if (given.length > 1) throw new DefinitionError(`only one action may be given, found ${given.join(', ')}`)
  const key = given[0] ?? 'action'
  const value = table[key] ?? 'proceed'
  if (typeof value !== 'string') throw new DefinitionError(`invalid type for \`${key}\`: expected a string`)
  const h = readHandlers(table)
  const state = stateOf(name, { kind: 'proceed' })
  const onExec = (fallback: Transition): StateDefinition => ({ ...state, onExec: h.onExec ?? fallback })

  switch (key) {
    case 'script':
      return {
        ...exitHandlers(state, h, defaults),
        action: { kind: 'script', command: checkScript(value), background: false },
      }
    case 'background_script':
      return {
        ...onExec(SUCCESSFUL),
        action: { kind: 'script', command: checkScript(value), background: true },
      }
    case 'iterate': {
      // IterateHandlers: `on_next` and `on_success` are required (thin-edge words it "Missing mandatory state").
      if (!h.onNext) throw new DefinitionError('Missing mandatory state: on_next')
      if (!h.onSuccess) throw new DefinitionError('Missing mandatory state: on_success')
      if (pathOf(value) === undefined) {
        throw new DefinitionError(`The provided target ${value} is not a valid path expression`)
      }
      // The target stays a `${…}` template, to be resolved with `expandValue`.
      return {
        ...state,
        action: { kind: 'iterate', target: value },
        onNext: h.onNext,
        onSuccess: h.onSuccess,
        onError: h.onError ?? defaults.onError ?? FAILED,
      }
    }
    case 'operation': {
      const builtin = value.startsWith('builtin:') ? value.slice('builtin:'.length) : undefined
      // A `builtin:<op>` can only be invoked from the workflow of the same `<op>`.
      if (builtin !== undefined && builtin !== operation) {
        throw new DefinitionError(
          `The \`builtin:${builtin}\` cannot be invoked from \`${operation}\`, but only from \`${builtin}\``,
        )
      }
      if (builtin !== undefined)
        return { ...onExec(SUCCESSFUL), action: { kind: 'operation', operation: value, input: {} } }
      const action: Action = {
        kind: 'operation',
        operation: value,
        input: excerpt(table.input, 'input', true),
      }
      if (table.input_script !== undefined) {
        if (typeof table.input_script !== 'string') {
          throw new DefinitionError('invalid type for `input_script`: expected a string')
        }
        action.inputScript = checkScript(table.input_script)
      }
      return { ...onExec(SUCCESSFUL), action }
    }
    case 'action':
      return readAction(value, state, h, table, operation, defaults)
  }
}

function readAction(
  value: string,
  state: StateDefinition,
  h: Handlers,
  table: Table,
  operation: string,
  defaults: Defaults,
): StateDefinition {
  switch (value) {
    case 'cleanup':
      return { ...state, action: { kind: 'cleanup' } }
    case 'proceed':
      return { ...state, onSuccess: h.onSuccess ?? SUCCESSFUL }
    case 'restart-agent':
      return { ...state, action: builtinAction('restart-agent'), onExec: h.onExec ?? SUCCESSFUL }
    case 'await-agent-restart':
      return { ...awaitHandlers(state, h, defaults), action: builtinAction('await-agent-restart') }
    case 'await-operation-completion': {
      const output = excerpt(table.output, 'output', false) as Table
      return { ...awaitHandlers(state, h, defaults), action: builtinAction(value, {}, output) }
    }
    case 'download':
    case 'upload': {
      // Exit handlers *without* the workflow defaults (`ExitHandlers::try_from(input.handlers)`).
      const input = excerpt(table.input, 'input', false) as Table
      return { ...exitHandlers(state, h, {}), action: builtinAction(value, input) }
    }
    case 'builtin':
      // Deprecated: thin-edge documents it as `operation = "builtin:<op>"` + `await-operation-completion`.
      // One state cannot hold both, so `executing` awaits and any other state triggers; the defaults
      // are `ExecHandlers::builtin_default` / `AwaitHandlers::builtin_default`.
      if (state.name === 'executing') {
        return {
          ...state,
          action: builtinAction('await-operation-completion'),
          onSuccess: h.onSuccess ?? SUCCESSFUL,
          onError: h.onError ?? FAILED,
          onTimeout: h.onTimeout ?? TIMEOUT,
          timeoutSeconds: h.timeoutSeconds,
        }
      }
      return {
        ...state,
        action: { kind: 'operation', operation: `builtin:${operation}`, input: {} },
        onExec: h.onExec ?? { status: 'executing' },
      }
  }
  // `builtin:<op>:<step>`, e.g. `builtin:config_update:set`; `builtin:<op>` alone is unknown here.
  // The deprecated `restart` action was removed from thin-edge in 2024 (commit a868ae641) and is unknown too.
  const step = /^builtin:([^:]*):(.*)$/.exec(value)
  if (!step) throw new DefinitionError(`Unknown action: ${value}`)
  const input = excerpt(table.input, 'input', false) as Table
  const action: Action = { kind: 'builtin-step', operation: step[1] ?? '', step: step[2] ?? '', input }
  return { ...exitHandlers(state, h, defaults), action }
}

function builtinAction(
  name: Extract<Action, { kind: 'builtin-action' }>['name'],
  input: Table = {},
  output: Table = {},
): Action {
  return { kind: 'builtin-action', name, input, output }
}

/**
 * `StateExcerpt`: an `input` / `output` is absent (nothing), a table, or — where the model allows it
 * (`operation` input) — one `${…}` string naming an object. Other values are rejected as by thin-edge.
 */
function excerpt(value: unknown, key: string, allowString: boolean): Table | string {
  if (value === undefined) return {}
  // TOML dates become ISO strings, as they would in the JSON payloads they end up in.
  if (isTable(value)) return JSON.parse(JSON.stringify(value)) as Table
  if (typeof value === 'string' && allowString) return value
  if (typeof value === 'string') {
    // thin-edge also accepts a `${…}` string here; the model keeps tables only for builtin actions.
    throw new DefinitionError(`\`${key}\` must be a table for this action, not ${JSON.stringify(value)}`)
  }
  const kind = Array.isArray(value) ? 'array' : typeof value
  throw new DefinitionError(
    `Only records can be used for command ${key}, not a ${kind} as ${JSON.stringify(value)}`,
  )
}

function checkScript(commandLine: string): string {
  let words: string[]
  try {
    words = splitCommandLine(commandLine)
  } catch (error) {
    if (error instanceof CommandLineError) {
      throw new DefinitionError(`invalid script: ${commandLine}: ${error.message}`)
    }
    throw error
  }
  if (words.length === 0) throw new DefinitionError('invalid script: empty')
  return commandLine
}

function stateOf(name: string, action: Action, handlers: Partial<StateDefinition> = {}): StateDefinition {
  return { name, action, onExit: [], ...handlers }
}

function byName(states: StateDefinition[]): Map<string, StateDefinition> {
  return new Map(states.map((state) => [state.name, state]))
}
