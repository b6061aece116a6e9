import path from 'node:path'
import type { Logger } from 'pino'
import { readAgentSettings, systemTomlPath } from '../agent-settings'
import { type BuiltinContext, type BuiltinOperation, OperationFailure } from '../builtin/builtin'
import { downloadToFile, uploadFile } from '../download'
import { isTerminal, type Operation, type OperationStore } from '../operation-store'
import { CommandLog, commandLogFile, pruneCommandLogs, safeName } from './command-log'
import type { Action, StateDefinition, TemplateContext, Transition, WorkflowDefinition } from './model'
import type { WorkflowRegistry } from './registry'
import {
  commandArgs,
  killProcessGroup,
  markProcessGroup,
  type ProcessGroupMark,
  runScript,
  startBackground,
} from './script'
import { expandString, expandValue } from './templates'
import { builtinActionTransition, inputScriptOutput, type StateUpdate, scriptTransition } from './transitions'

/** The next state of a command and the fields its action adds to the payload. */
interface Step extends Transition {
  patch?: Record<string, unknown>
  /** Runs once the new state is published (restart-agent). */
  after?: () => void
}

interface Running {
  abort: AbortController
  cancelledBy?: string
  /** What the current state waits on can be interrupted (a script, a transfer, an await). */
  interruptible: boolean
}

export interface EngineDeps {
  store: OperationStore
  workflows: WorkflowRegistry
  builtins: Map<string, BuiltinOperation>
  /** Publishes the command's current state (retained, QoS 1); resolves once the broker has it. */
  publish: (operation: Operation) => Promise<void>
  /** Creates and publishes a sub-command `init` (reference §3.1 `sub:<op>:<id>`). */
  request: (parent: Operation, operation: string, payload: Record<string, unknown>) => Operation | string
  /** The requester's part for a finished sub-command: clear its topic. */
  clear: (operation: Operation) => void
  /** Restarts the agent runtime (`restart-agent`). */
  restartAgent: () => void
  topicRoot: string
  dataDir: string
  logsDir: string
  /** Environment of workflow scripts (PATH with the `tedge` shim, the broker URL). */
  env: () => NodeJS.ProcessEnv
  now: () => number
  logger: Logger
}

/**
 * Runs the workflows of the commands EdgeTwin executes (reference §3.4): each state's action, then
 * the handler its outcome selects, publishing every state. The store holds the current state, so a
 * command interrupted by a restart resumes from it.
 */
export class WorkflowEngine {
  private readonly running = new Map<number, Running>()
  private readonly waiters = new Map<number, Array<() => void>>()
  private readonly builtinRuns = new Map<number, Promise<BuiltinOutcome>>()
  private agentRestarted: Array<() => void> = []
  private stopping = false

  constructor(private readonly deps: EngineDeps) {}

  /** Starts (or, after a restart, resumes) driving a command through its workflow. */
  run(operation: Operation, resumed = false): void {
    if (this.running.has(operation.id) || isTerminal(operation.status)) return
    this.stopping = false
    void this.drive(operation, resumed)
  }

  /** Ends a new command at once, `failed` with `reason`, without running any of its workflow. */
  refuse(operation: Operation, reason: string): void {
    if (this.running.has(operation.id) || isTerminal(operation.status)) return
    this.stopping = false
    void this.drive(operation, false, { status: 'failed', reason })
  }

  cancellable(operation: Operation): boolean {
    return this.running.get(operation.id)?.interruptible ?? false
  }

  /** Interrupts the current action; the state's `on_kill` (or `failed`) follows. */
  cancel(operation: Operation, actor: string): boolean {
    const running = this.running.get(operation.id)
    if (!running?.interruptible) return false
    running.cancelledBy = actor
    running.abort.abort()
    return true
  }

  /** A command changed state: wakes whoever awaits it. */
  changed(operation: Operation): void {
    if (!isTerminal(operation.status) && !operation.cleared) return
    const waiters = this.waiters.get(operation.id)
    this.waiters.delete(operation.id)
    for (const wake of waiters ?? []) wake()
  }

  /** The agent runtime restarted (`restart-agent`): `await-agent-restart` states proceed. */
  restarted(): void {
    const waiting = this.agentRestarted
    this.agentRestarted = []
    for (const wake of waiting) wake()
  }

  /** Interrupts every action without changing any state: they resume at the next start. */
  async stop(): Promise<void> {
    this.stopping = true
    for (const running of this.running.values()) running.abort.abort()
    const deadline = Date.now() + 5000
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  }

  logFile(operation: Pick<Operation, 'operation' | 'cmdId'>): string {
    return commandLogFile(this.deps.logsDir, operation.operation, operation.cmdId)
  }

  private async drive(operation: Operation, resumed: boolean, refused?: Step): Promise<void> {
    if (!resumed) pruneCommandLogs(this.deps.logsDir, operation.operation, this.deps.logger)
    const log = new CommandLog(this.logFile(operation), this.deps.logger, this.deps.now)
    const running: Running = { abort: new AbortController(), interruptible: false }
    this.running.set(operation.id, running)
    const write = (line: string) => log.write(line)
    try {
      if (resumed) {
        write(`resumed in state ${operation.status} after a restart of EdgeTwin`)
        this.stopOrphanedScript(operation, write)
      }
      while (!isTerminal(operation.status) && !operation.cleared) {
        const workflow = this.workflowOf(operation)
        const state = workflow.states.get(operation.status)
        let step: Step
        if (refused) {
          write(`refused: ${refused.reason}`)
          step = refused
        } else if (!state) {
          step = {
            status: 'failed',
            reason: `Unknown state "${operation.status}" in the ${workflow.operation} workflow`,
          }
        } else {
          write(`state ${state.name}: ${describe(state.action)}`)
          step = await this.execute(operation, workflow, state, running, resumed, write)
        }
        resumed = false
        if (this.stopping || operation.cleared) return
        running.cancelledBy = undefined
        running.abort = new AbortController()
        await this.advance(operation, workflow, step, write)
        step.after?.()
      }
      write(`done: ${operation.status}${operation.reason ? ` (${operation.reason})` : ''}`)
    } catch (err) {
      // A bug, not an outcome: the command must still end, with the error as its reason.
      this.deps.logger.error(
        { err, operation: operation.operation, cmdId: operation.cmdId },
        'workflow failed',
      )
      if (!this.stopping && !isTerminal(operation.status)) {
        await this.advance(
          operation,
          this.workflowOf(operation),
          {
            status: 'failed',
            reason: `Internal error: ${(err as Error).message}`,
          },
          write,
        ).catch(() => {})
      }
    } finally {
      this.running.delete(operation.id)
      this.builtinRuns.delete(operation.id)
      log.close()
    }
  }

  /**
   * A script that ran for this command when EdgeTwin died leads its own process group, which outlived
   * EdgeTwin: the resumed state runs again from its start, so that run must not go on beside it.
   */
  private stopOrphanedScript(operation: Operation, write: (line: string) => void): void {
    const mark = operation.agentState.script as ProcessGroupMark | undefined
    if (!mark) return
    if (killProcessGroup(mark))
      write(`stopped the script run left by the previous EdgeTwin (process group ${mark.pid})`)
    delete operation.agentState.script
    this.deps.store.update(operation)
  }

  private workflowOf(operation: Operation): WorkflowDefinition {
    const { workflows } = this.deps
    const pinned =
      operation.workflowVersion && workflows.version(operation.operation, operation.workflowVersion)
    const workflow = pinned || workflows.get(operation.operation)
    if (!workflow) throw new Error(`no workflow for ${operation.operation}`)
    return workflow
  }

  private async advance(
    operation: Operation,
    workflow: WorkflowDefinition,
    step: Step,
    write: (line: string) => void,
  ): Promise<void> {
    const payload: Record<string, unknown> = { ...operation.payload, ...step.patch, status: step.status }
    for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key]
    if (step.reason !== undefined) payload.reason = step.reason
    // thin-edge.io injects the workflow version and the log path into the command (reference §3.1).
    if (!operation.workflowVersion) {
      operation.workflowVersion = workflow.version
      this.deps.workflows.remember(workflow)
    }
    payload['@version'] = operation.workflowVersion
    payload.logPath = this.logFile(operation)
    write(`→ ${step.status}${step.reason ? `: ${step.reason}` : ''}`)
    this.deps.store.transition(operation, payload, this.deps.now())
    await this.deps.publish(operation)
  }

  private context(operation: Operation): TemplateContext {
    return {
      topic: `${this.deps.topicRoot}/${operation.entity}/cmd/${operation.operation}/${operation.cmdId}`,
      root: this.deps.topicRoot,
      target: operation.entity,
      operation: operation.operation,
      cmdId: operation.cmdId,
      payload: operation.payload,
    }
  }

  /** Runs one state's action; resolves with the state its outcome leads to. */
  private async execute(
    operation: Operation,
    workflow: WorkflowDefinition,
    state: StateDefinition,
    running: Running,
    resumed: boolean,
    write: (line: string) => void,
  ): Promise<Step> {
    const action = state.action
    const context = this.context(operation)
    const signal = running.abort.signal
    const onError = state.onError ?? workflow.defaults.onError ?? { status: 'failed' }
    const failedWith = (reason: string): Step => ({ status: onError.status, reason })
    const cancelled = (): Step =>
      state.onKill ?? { status: 'failed', reason: `Cancelled by ${running.cancelledBy}` }
    /** download, upload and `builtin:<op>:<step>`: thin-edge.io's result handling, with their fields. */
    const actionOutcome = (work: Promise<Record<string, unknown> | undefined>): Promise<Step> =>
      work.then(
        (fields) => toStep(builtinActionTransition(state, workflow, { ok: true, fields })),
        (err) => {
          if (running.cancelledBy) return cancelled()
          // A built-in's own reason reaches the requester as tedge-agent words it ("The agent has been
          // restarted but not the device"); other errors get thin-edge.io's `builtin '…' action failed with:`.
          if (err instanceof OperationFailure) return { ...failedWith(err.message), patch: err.fields }
          return toStep(
            builtinActionTransition(state, workflow, { ok: false, error: (err as Error).message }),
          )
        },
      )
    // An await that a cancel, a stop or the state's timeout interrupts.
    const interruptibly = async (work: Promise<Step>): Promise<Step> => {
      running.interruptible = true
      try {
        const timeoutMs = state.timeoutSeconds ? state.timeoutSeconds * 1000 : undefined
        const onTimeout = state.onTimeout ??
          workflow.defaults.onTimeout ?? { status: 'failed', reason: 'timeout' }
        return await raceAbort(work, signal, timeoutMs, () => ({ ...onTimeout }), cancelled)
      } finally {
        running.interruptible = false
      }
    }

    switch (action.kind) {
      case 'proceed':
        return { ...(state.onSuccess ?? { status: 'successful' }) }
      case 'cleanup':
        // Only terminal states clean up, and the loop never runs those; elsewhere it is a no-op step.
        return { ...(state.onSuccess ?? { status: 'successful' }) }
      case 'script': {
        let args: string[]
        try {
          args = commandArgs(action.command, context)
        } catch (err) {
          return failedWith(`Invalid script "${action.command}": ${(err as Error).message}`)
        }
        write(`run: ${args.join(' ')}`)
        const env = this.deps.env()
        if (action.background) {
          const started = startBackground(args, {
            cwd: this.deps.dataDir,
            env,
            logFile: this.logFile(operation),
          })
          if ('error' in started) return failedWith(started.error)
          return { ...(state.onExec ?? { status: 'successful' }) }
        }
        running.interruptible = true
        const result = await runScript(args, {
          cwd: this.deps.dataDir,
          env,
          timeoutMs: state.timeoutSeconds ? state.timeoutSeconds * 1000 : undefined,
          signal,
          onOutput: (stream, text) => write(`${stream}: ${text.trimEnd()}`),
          // Committed before the script goes on: after a crash, the resumed state stops this run first.
          onSpawn: (pid) => {
            operation.agentState.script = markProcessGroup(pid)
            this.deps.store.update(operation)
            this.deps.store.flush()
          },
        }).finally(() => {
          running.interruptible = false
          delete operation.agentState.script
          this.deps.store.update(operation)
        })
        if (running.cancelledBy && result.exit.kind === 'killed') return cancelled()
        return toStep(scriptTransition(state, workflow, result))
      }
      case 'builtin-action':
        return this.builtinAction(operation, action, state, context, {
          resumed,
          signal,
          write,
          failedWith,
          interruptibly,
          actionOutcome,
        })
      case 'builtin-step': {
        const run = this.deps.builtins.get(action.operation)?.steps?.[action.step]
        if (!run) return failedWith(`Unknown built-in action "builtin:${action.operation}:${action.step}"`)
        const input = expandValue(action.input, context) as Record<string, unknown>
        return interruptibly(
          actionOutcome(run(this.builtinContext(operation, running, resumed, write), input)),
        )
      }
      case 'operation':
        return this.operation(operation, action, state, context, running, resumed, { write, failedWith })
      case 'iterate': {
        const list = expandValue(action.target, context)
        if (!Array.isArray(list)) return failedWith(`"${action.target}" is not a list`)
        const previous = operation.payload['@next'] as { index?: number } | undefined
        let index = typeof previous?.index === 'number' ? previous.index + 1 : 0
        // device_profile entries with "@skip": true are left out (reference §3.2).
        while (index < list.length && (list[index] as { '@skip'?: unknown } | null)?.['@skip'] === true)
          index++
        if (index < list.length) {
          return {
            ...(state.onNext ?? { status: 'failed', reason: 'no on_next' }),
            patch: { '@next': { index, item: list[index] } },
          }
        }
        return { ...(state.onSuccess ?? { status: 'successful' }), patch: { '@next': undefined } }
      }
    }
  }

  private async builtinAction(
    operation: Operation,
    action: Extract<Action, { kind: 'builtin-action' }>,
    state: StateDefinition,
    context: TemplateContext,
    kit: {
      resumed: boolean
      /** Aborted by a cancel or a stop: ends a transfer under way. */
      signal: AbortSignal
      write: (line: string) => void
      failedWith: (reason: string) => Step
      interruptibly: (work: Promise<Step>) => Promise<Step>
      actionOutcome: (work: Promise<Record<string, unknown> | undefined>) => Promise<Step>
    },
  ): Promise<Step> {
    const input = expandValue(action.input, context) as Record<string, unknown>
    const payload = operation.payload
    const success = (patch?: Record<string, unknown>): Step => ({
      ...(state.onSuccess ?? { status: 'successful' }),
      patch,
    })
    switch (action.name) {
      case 'download': {
        // Reference §3.4: `input.url`, else the command's tedgeUrl, else its remoteUrl.
        const url = [input.url, payload.tedgeUrl, payload.remoteUrl].find((u) => typeof u === 'string' && u)
        const file = path.join(
          this.deps.dataDir,
          'downloads',
          `${operation.operation}-${safeName(operation.cmdId)}`,
        )
        kit.write(`download ${String(url)} → ${file}`)
        const limits = {
          maxBytes: readAgentSettings(this.deps.dataDir, this.deps.logger).maxDownloadBytes,
          limitSetting: `max_download_size in ${systemTomlPath(this.deps.dataDir)}`,
          signal: kit.signal,
        }
        return kit.interruptibly(
          kit.actionOutcome(
            typeof url === 'string'
              ? downloadToFile(url, file, limits).then(() => ({ downloadedPath: file }))
              : Promise.reject(new Error('no url, tedgeUrl or remoteUrl')),
          ),
        )
      }
      case 'upload': {
        const { url, file } = input
        kit.write(`upload ${String(file)} → ${String(url)}`)
        return kit.interruptibly(
          kit.actionOutcome(
            typeof url === 'string' && typeof file === 'string'
              ? uploadFile(file, url, kit.signal).then(() => undefined)
              : Promise.reject(new Error('upload needs input.url and input.file')),
          ),
        )
      }
      case 'await-operation-completion':
        return kit.interruptibly(this.awaitCompletion(operation, action, state, context, kit))
      case 'await-agent-restart':
        // Resumed after a restart of the agent: that is what this state waits for.
        if (kit.resumed) return success()
        return kit.interruptibly(
          new Promise<Step>((resolve) => this.agentRestarted.push(() => resolve(success()))),
        )
      case 'restart-agent':
        return { ...(state.onExec ?? success()), after: () => this.deps.restartAgent() }
    }
  }

  /** `await-operation-completion`: the built-in run or the sub-command the previous state started. */
  private async awaitCompletion(
    operation: Operation,
    action: Extract<Action, { kind: 'builtin-action' }>,
    state: StateDefinition,
    context: TemplateContext,
    kit: { resumed: boolean; write: (line: string) => void; failedWith: (reason: string) => Step },
  ): Promise<Step> {
    const success = (patch?: Record<string, unknown>): Step => ({
      ...(state.onSuccess ?? { status: 'successful' }),
      patch,
    })
    const builtinRun = this.builtinRuns.get(operation.id)
    if (builtinRun) {
      this.builtinRuns.delete(operation.id)
      const outcome = await builtinRun
      return outcome.ok
        ? success(outcome.fields)
        : { ...kit.failedWith(outcome.reason), patch: outcome.fields }
    }
    const sub = operation.agentState.sub as { operation: string; cmdId: string } | undefined
    const child = sub && this.deps.store.onTopic(operation.entity, sub.operation, sub.cmdId)
    if (!child) {
      if (kit.resumed && operation.agentState.builtin) {
        return kit.failedWith(
          `EdgeTwin restarted while ${operation.operation} was executing; its outcome is unknown`,
        )
      }
      return kit.failedWith(`State "${state.name}" has no operation to wait for`)
    }
    kit.write(`waiting for ${child.operation} ${child.cmdId}`)
    await this.terminal(child)
    const output = expandValue(action.output, { ...context, payload: child.payload }) as Record<
      string,
      unknown
    >
    this.deps.clear(child)
    delete operation.agentState.sub
    if (child.status === 'successful') return success(output)
    return kit.failedWith(child.reason ?? `${child.operation} failed`)
  }

  /** `operation = "…"`: starts a built-in run or a sub-command, then moves on to `on_exec`. */
  private async operation(
    operation: Operation,
    action: Extract<Action, { kind: 'operation' }>,
    state: StateDefinition,
    context: TemplateContext,
    running: Running,
    resumed: boolean,
    kit: { write: (line: string) => void; failedWith: (reason: string) => Step },
  ): Promise<Step> {
    const next = (): Step => ({ ...(state.onExec ?? { status: 'successful' }) })
    const name = expandString(action.operation, context)
    if (name.startsWith('builtin:')) {
      const builtin = this.deps.builtins.get(name.slice('builtin:'.length))
      if (!builtin?.run) return kit.failedWith(`No built-in implementation of ${name}`)
      operation.agentState.builtin = true
      this.deps.store.update(operation)
      const run = builtin.run(this.builtinContext(operation, running, resumed, kit.write)).then(
        (fields): BuiltinOutcome => ({ ok: true, fields }),
        (err): BuiltinOutcome => ({
          ok: false,
          reason: (err as Error).message,
          fields: err instanceof OperationFailure ? err.fields : undefined,
        }),
      )
      this.builtinRuns.set(operation.id, run)
      return next()
    }
    let input = expandValue(action.input, context)
    if (action.inputScript) {
      const result = await runScript(commandArgs(action.inputScript, context), {
        cwd: this.deps.dataDir,
        env: this.deps.env(),
        signal: running.abort.signal,
      })
      const output = inputScriptOutput(result)
      if (!output.ok) return kit.failedWith(output.reason)
      input = { ...(input as object), ...output.value }
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return kit.failedWith(`The input of ${name} is not an object`)
    }
    const child = this.deps.request(operation, name, input as Record<string, unknown>)
    if (typeof child === 'string') return kit.failedWith(child)
    kit.write(`requested ${name} ${child.cmdId}`)
    operation.agentState.sub = { operation: child.operation, cmdId: child.cmdId }
    this.deps.store.update(operation)
    return next()
  }

  private builtinContext(
    operation: Operation,
    running: Running,
    resumed: boolean,
    write: (line: string) => void,
  ): BuiltinContext {
    return {
      operation,
      signal: running.abort.signal,
      log: write,
      resumed,
      note: (fields) => {
        Object.assign(operation.agentState, fields)
        this.deps.store.update(operation)
        this.deps.store.flush()
      },
    }
  }

  private terminal(operation: Operation): Promise<void> {
    if (isTerminal(operation.status) || operation.cleared) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.waiters.get(operation.id) ?? []
      list.push(resolve)
      this.waiters.set(operation.id, list)
    })
  }
}

type BuiltinOutcome =
  | { ok: true; fields: Record<string, unknown> }
  | { ok: false; reason: string; fields?: Record<string, unknown> }

const toStep = (update: StateUpdate): Step => ({
  status: update.status,
  reason: update.reason,
  patch: update.fields,
})

function describe(action: Action): string {
  switch (action.kind) {
    case 'script':
      return `${action.background ? 'background_script' : 'script'} ${action.command}`
    case 'builtin-action':
      return `action ${action.name}`
    case 'builtin-step':
      return `action builtin:${action.operation}:${action.step}`
    case 'operation':
      return `operation ${action.operation}`
    case 'iterate':
      return `iterate ${action.target}`
    default:
      return action.kind
  }
}

/** Resolves with `work`, or with the timeout's or the abort's step, whichever comes first. */
function raceAbort(
  work: Promise<Step>,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  onTimeout: () => Step,
  onAbort: () => Step,
): Promise<Step> {
  return new Promise<Step>((resolve, reject) => {
    const timer = timeoutMs ? setTimeout(() => finish(onTimeout()), timeoutMs) : undefined
    const aborted = () => finish(onAbort())
    function finish(step: Step) {
      clearTimeout(timer)
      signal.removeEventListener('abort', aborted)
      resolve(step)
    }
    if (signal.aborted) return aborted()
    signal.addEventListener('abort', aborted, { once: true })
    work.then(finish, (err) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', aborted)
      reject(err)
    })
  })
}
