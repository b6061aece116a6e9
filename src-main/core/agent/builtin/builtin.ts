import type { Operation } from '../operation-store'

/** What a built-in implementation gets while it runs for one command. */
export interface BuiltinContext {
  operation: Operation
  /** Aborted when the command is cancelled or the core stops. */
  signal: AbortSignal
  /** One line in the command's workflow log. */
  log: (line: string) => void
  /** True when the core restarted while this step was running: the step decides how to go on. */
  resumed: boolean
  /** Persists the agent's private notes for this command (read back on resume from `agentState`). */
  note: (fields: Record<string, unknown>) => void
}

/** A built-in result: fields merged into the command's payload. Throw an Error to fail with its message. */
export type BuiltinResult = Record<string, unknown>

/** An operation the agent implements itself for the main device (reference §3.1 "Builtin agent ops"). */
export interface BuiltinOperation {
  readonly name: string
  /** The capability payload (`{}` or `{"types": […]}`); undefined hides the operation. */
  capability(): Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined
  /** thin-edge.io's built-in workflow for it, in TOML; a file in operations/ replaces it. */
  readonly workflow: string
  /** `operation = "builtin:<name>"`. */
  run?(context: BuiltinContext): Promise<BuiltinResult>
  /** `action = "builtin:<name>:<step>"`, with the state's expanded `input.*`. */
  steps?: Record<string, (context: BuiltinContext, input: Record<string, unknown>) => Promise<BuiltinResult>>
}

/** thin-edge.io's built-in workflow shape: init → scheduled → executing → successful | failed. */
export function standardWorkflow(operation: string): string {
  return `operation = "${operation}"

[init]
action = "proceed"
on_success = "scheduled"

[scheduled]
operation = "builtin:${operation}"
on_exec = "executing"

[executing]
action = "await-operation-completion"
on_success = "successful"
on_error = "failed"

[successful]
action = "cleanup"

[failed]
action = "cleanup"
`
}

/** A failure whose message is the reason published to the requester, with fields for the payload. */
export class OperationFailure extends Error {
  constructor(
    message: string,
    readonly fields?: Record<string, unknown>,
  ) {
    super(message)
  }
}
