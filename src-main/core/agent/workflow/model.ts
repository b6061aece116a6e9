// A thin-edge.io operation workflow (reference §3.4) once read and validated: what each state does
// and where each outcome leads. Parsed by definition.ts, run by the engine.

/** Where a handler leads: the next status, and a reason when that status is `failed`. */
export interface Transition {
  status: string
  reason?: string
}

/** What a state does. A state with no action proceeds (`action = "proceed"`). */
export type Action =
  | { kind: 'proceed' }
  /** Terminal states only: the command is done; the requester clears it. */
  | { kind: 'cleanup' }
  /** `script` / `background_script`: a command line with `${…}` templates, run without a shell. */
  | { kind: 'script'; command: string; background: boolean }
  /** `action = "download" | "upload" | "await-operation-completion" | "await-agent-restart" | "restart-agent"`. */
  | {
      kind: 'builtin-action'
      name: BuiltinActionName
      input: Record<string, unknown>
      output: Record<string, unknown>
    }
  /** `action = "builtin:<op>:<step>"`, e.g. `builtin:config_update:set` with `input.setFrom`. */
  | { kind: 'builtin-step'; operation: string; step: string; input: Record<string, unknown> }
  /**
   * `operation = "<op>"`: a sub-command `sub:<this-op>:<this-cmd-id>` on the same target, created with
   * `input` (a table of templates, or one template string naming an object). `operation =
   * "builtin:<op>"` runs the built-in implementation of this very operation.
   */
  | { kind: 'operation'; operation: string; input: Record<string, unknown> | string; inputScript?: string }
  /** `iterate = "${.payload.list}"`: `@next = {index, item}` per element, then `on_success`. */
  | { kind: 'iterate'; target: string }

export type BuiltinActionName =
  | 'download'
  | 'upload'
  | 'await-operation-completion'
  | 'await-agent-restart'
  | 'restart-agent'

export interface ExitRange {
  from: number
  to: number
  transition: Transition
}

export interface StateDefinition {
  name: string
  action: Action
  onSuccess?: Transition
  onError?: Transition
  /** `on_exit.N` and `on_exit.N-M`, in file order; `on_exit._` is stored as `onError`. */
  onExit: ExitRange[]
  onKill?: Transition
  onExec?: Transition
  onTimeout?: Transition
  onNext?: Transition
  /** `on_stdout = [...]`: the states a script may choose by printing `status`. */
  onStdout?: string[]
  timeoutSeconds?: number
}

export interface WorkflowDefinition {
  operation: string
  /** `@version`: sha256 (hex) of the TOML file's bytes, or `builtin`. */
  version: string
  /** The file it was read from, or `builtin`. */
  source: string
  states: Map<string, StateDefinition>
  /** Top-level `on_error`, `timeout_second`, `on_timeout`: defaults for every state. */
  defaults: { onError?: Transition; timeoutSeconds?: number; onTimeout?: Transition }
  /**
   * Set when the file could not be used; the workflow is then thin-edge.io's placeholder
   * (init → executing → failed) and this is the reason it fails with.
   */
  invalid?: string
}

/** The command a template is expanded against: `${.topic…}` and `${.payload…}`. */
export interface TemplateContext {
  /** The full topic, e.g. `te/device/main///cmd/restart/123`. */
  topic: string
  /** `te` */
  root: string
  /** The entity topic id, e.g. `device/main//`. */
  target: string
  operation: string
  cmdId: string
  payload: Record<string, unknown>
}

/** How a script ended. */
export type ScriptExit =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: string }
  /** The program could not be started (not found, not executable). */
  | { kind: 'spawn-failed'; error: string }
  /** It ran past `timeout_second` and was killed. */
  | { kind: 'timeout' }

export interface ScriptResult {
  exit: ScriptExit
  /** The program as it appears in default reasons, e.g. `/usr/bin/firmware_handler.sh`. */
  program: string
  stdout: string
  stderr: string
  /** JSON between `:::begin-tedge:::` and `:::end-tedge:::` on stdout, when there was one. */
  output?: Record<string, unknown>
}
