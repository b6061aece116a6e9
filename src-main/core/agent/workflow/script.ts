// Running the programs of `script`, `background_script` and `input_script` states (reference §3.4).
// Behaviour follows thin-edge.io's tedge_api/src/script.rs (command lines), workflow/handlers.rs
// (stdout excerpts) and extensions/tedge_script_ext (timeouts): no shell, stdin closed.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import type { ScriptExit, ScriptResult, TemplateContext } from './model'
import { expandString } from './templates'

/** Captured stdout / stderr keep their last 1 Mi characters; the rest only reaches `onOutput`. */
export const MAX_CAPTURE = 1024 * 1024

/** After exit, how long (ms) the pipes may stay open (held by a grandchild) before we stop reading. */
const DRAIN_MS = 2000

const BEGIN = ':::begin-tedge:::\n'
const END = '\n:::end-tedge:::'

export class CommandLineError extends Error {}

/**
 * Split a command line into words as the `shell-words` crate thin-edge uses (POSIX quoting, backslash
 * escapes, `#` comments; no expansion, no operators).
 * @throws CommandLineError `missing closing quote`, the crate's only error.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = []
  let word = ''
  let state:
    | 'delimiter'
    | 'backslash'
    | 'unquoted'
    | 'unquoted-backslash'
    | 'single'
    | 'double'
    | 'double-backslash'
    | 'comment' = 'delimiter'
  for (const c of line) {
    switch (state) {
      case 'delimiter':
        if (c === ' ' || c === '\t' || c === '\n') break
        if (c === "'") state = 'single'
        else if (c === '"') state = 'double'
        else if (c === '\\') state = 'backslash'
        else if (c === '#') state = 'comment'
        else {
          word += c
          state = 'unquoted'
        }
        break
      case 'backslash':
      case 'unquoted-backslash':
        // A backslash-newline is a line continuation; any other character is taken literally.
        if (c === '\n') state = state === 'backslash' ? 'delimiter' : 'unquoted'
        else {
          word += c
          state = 'unquoted'
        }
        break
      case 'unquoted':
        if (c === ' ' || c === '\t' || c === '\n') {
          words.push(word)
          word = ''
          state = 'delimiter'
        } else if (c === "'") state = 'single'
        else if (c === '"') state = 'double'
        else if (c === '\\') state = 'unquoted-backslash'
        else word += c
        break
      case 'single':
        if (c === "'") state = 'unquoted'
        else word += c
        break
      case 'double':
        if (c === '"') state = 'unquoted'
        else if (c === '\\') state = 'double-backslash'
        else word += c
        break
      case 'double-backslash':
        // Inside double quotes a backslash only escapes $ ` " \ and a newline.
        if (c !== '\n') word += '$`"\\'.includes(c) ? c : `\\${c}`
        state = 'double'
        break
      case 'comment':
        if (c === '\n') state = 'delimiter'
        break
    }
  }
  if (state === 'single' || state === 'double' || state === 'double-backslash') {
    throw new CommandLineError('missing closing quote')
  }
  if (state === 'backslash' || state === 'unquoted-backslash') words.push(`${word}\\`)
  else if (state === 'unquoted') words.push(word)
  return words
}

/**
 * The argv of a `script = "…"` line for one command: split first, then expand `${…}` in each word, so
 * an expanded value with spaces stays one argument (`ShellScript::inject_values`).
 */
export function commandArgs(commandLine: string, ctx: TemplateContext): string[] {
  return splitCommandLine(commandLine).map((word) => expandString(word, ctx))
}

/**
 * The JSON between the first `:::begin-tedge:::` line and the next `:::end-tedge:::` line
 * (`extract_script_output`: the first block wins; both markers must sit on their own line).
 */
export type TedgeOutput =
  | { kind: 'none' }
  | { kind: 'invalid'; error: string }
  | { kind: 'json'; value: unknown }

export function extractTedgeOutput(stdout: string): TedgeOutput {
  const block = new FirstBlock()
  block.push(stdout)
  return block.parse()
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** `timeout_second` in ms: then SIGTERM, and SIGKILL `killGraceMs` later. */
  timeoutMs?: number
  /** Abort = SIGTERM, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void
  /** Default 5 s, tedge_script_ext's forceful timeout when none is configured. */
  killGraceMs?: number
  /** Called once the program runs, with its pid: the id of its process group too. */
  onSpawn?: (pid: number) => void
}

/** A ScriptResult that also says why `output` is absent, in thin-edge's words. */
export interface ScriptRun extends ScriptResult {
  /** `contains no :::tedge::: content`, `is not valid JSON: …` or `is not a JSON object`. */
  outputError?: string
}

/**
 * Run a program (no shell) to completion. The child leads its own process group so a timeout or an
 * abort also stops what it started (thin-edge signals only the pid, which can leave a grandchild
 * holding the pipes open).
 */
export function runScript(args: string[], options: RunOptions = {}): Promise<ScriptRun> {
  const [program = '', ...rest] = args
  const stdout = { text: '' }
  const stderr = { text: '' }
  const block = new FirstBlock()
  const result = (exit: ScriptExit): ScriptRun => {
    const parsed = block.parse()
    const run: ScriptRun = { exit, program, stdout: stdout.text, stderr: stderr.text }
    if (parsed.kind === 'json' && isObject(parsed.value)) run.output = parsed.value
    else if (parsed.kind === 'json') run.outputError = 'is not a JSON object'
    else run.outputError = parsed.kind === 'none' ? 'contains no :::tedge::: content' : parsed.error
    return run
  }
  if (program === '') return Promise.resolve(result({ kind: 'spawn-failed', error: 'empty command line' }))

  return new Promise((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(program, rest, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    } catch (error) {
      resolve(result({ kind: 'spawn-failed', error: messageOf(error) }))
      return
    }
    if (child.pid !== undefined) options.onSpawn?.(child.pid)
    let settled = false
    let timedOut = false
    const timers: NodeJS.Timeout[] = []
    const finish = (exit: ScriptExit): void => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      options.signal?.removeEventListener('abort', terminate)
      resolve(result(exit))
    }
    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        child.kill(signal)
      }
    }
    function terminate(): void {
      if (settled) return
      killGroup('SIGTERM')
      timers.push(setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 5000))
    }

    const read = (name: 'stdout' | 'stderr', capture: { text: string }) => {
      const stream = child[name]
      stream?.setEncoding('utf8')
      stream?.on('data', (text: string) => {
        capture.text = keepTail(capture.text + text)
        if (name === 'stdout') block.push(text)
        options.onOutput?.(name, text)
      })
    }
    read('stdout', stdout)
    read('stderr', stderr)

    child.on('error', (error) => {
      // Only a failed spawn leaves no pid; other errors (a failed kill) change nothing.
      if (child.pid === undefined) finish({ kind: 'spawn-failed', error: error.message })
    })
    const exitOf = (code: number | null, signal: NodeJS.Signals | null): ScriptExit => {
      if (timedOut) return { kind: 'timeout' }
      if (signal !== null) return { kind: 'killed', signal }
      return { kind: 'exited', code: code ?? 0 }
    }
    child.on('exit', (code, signal) => {
      if (settled) return
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy()
          child.stderr?.destroy()
          finish(exitOf(code, signal))
        }, DRAIN_MS),
      )
    })
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) finish(exitOf(code, signal))
    })

    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          // Exited already, only its pipes are still draining: not a timeout.
          if (child.exitCode !== null || child.signalCode !== null) return
          timedOut = true
          terminate()
        }, options.timeoutMs),
      )
    }
    if (options.signal?.aborted) terminate()
    else options.signal?.addEventListener('abort', terminate, { once: true })
  })
}

/**
 * A script's process group as noted when it started: its leader's pid and, on Linux, the leader's
 * start time, so that a pid the system gave to another process since (after a reboot) is never taken
 * for it.
 */
export interface ProcessGroupMark {
  pid: number
  start?: string
}

export function markProcessGroup(pid: number): ProcessGroupMark {
  const start = processStart(pid)
  return start === undefined ? { pid } : { pid, start }
}

/**
 * SIGKILLs a process group a previous EdgeTwin process left running (a crash does not stop a group
 * that leads itself). Only when its leader provably is the noted one: without /proc, nothing is
 * killed. Returns whether it was.
 */
export function killProcessGroup(mark: ProcessGroupMark): boolean {
  const start = processStart(mark.pid)
  if (start === undefined || start !== mark.start) return false
  try {
    process.kill(-mark.pid, 'SIGKILL')
    return true
  } catch {
    return false
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (Linux only). */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/**
 * SIGKILL delay after a script's `timeout_second`: thin-edge gives `max(60, timeout / 20)` seconds
 * (`ExitHandlers::forceful_timeout_extension`) so long jobs get a proportional grace.
 */
export function forcefulTimeoutExtensionMs(timeoutSeconds: number): number {
  return Math.max(60, Math.floor(timeoutSeconds / 20)) * 1000
}

/** The number of a signal name, as thin-edge prints it (`killed by signal 15`); 0 if unknown. */
export function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number | undefined>)[signal] ?? 0
}

export interface BackgroundOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Appends the program's stdout and stderr here; otherwise they are discarded. */
  logFile?: string
}

/**
 * Start a `background_script` detached and forget it: it must survive an agent restart it may
 * trigger itself. thin-edge moves to `on_exec` *before* starting it and ignores how it ends.
 */
export function startBackground(
  args: string[],
  options: BackgroundOptions = {},
): { pid: number } | { error: string } {
  const [program = '', ...rest] = args
  if (program === '') return { error: 'empty command line' }
  let fd: number | undefined
  try {
    if (options.logFile !== undefined) fd = openSync(options.logFile, 'a')
    const output = fd ?? 'ignore'
    const child = spawn(program, rest, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', output, output],
      detached: true,
    })
    // Node reports a failed exec on the next tick; only the missing pid tells it now.
    child.on('error', () => {})
    if (child.pid === undefined) return { error: `spawn ${program} ${accessError(program)}` }
    child.unref()
    return { pid: child.pid }
  } catch (error) {
    return { error: messageOf(error) }
  } finally {
    // The child holds its own copy of the descriptor.
    if (fd !== undefined) closeSync(fd)
  }
}

/** The errno code Node would give for a program that could not be executed. */
function accessError(program: string): string {
  if (!program.includes('/')) return 'ENOENT'
  try {
    accessSync(program, fsConstants.X_OK)
    return 'EACCES'
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'ENOENT'
  }
}

class FirstBlock {
  private before = ''
  private inside: string | undefined
  private content: string | undefined
  private tooLarge = false

  push(text: string): void {
    if (this.content !== undefined || this.tooLarge) return
    if (this.inside === undefined) {
      const seen = this.before + text
      const at = seen.indexOf(BEGIN)
      if (at < 0) {
        // Keep just enough to find a marker split across two chunks.
        this.before = seen.slice(-(BEGIN.length - 1))
        return
      }
      this.before = ''
      this.inside = ''
      text = seen.slice(at + BEGIN.length)
    }
    const from = Math.max(0, this.inside.length - END.length)
    this.inside += text
    const end = this.inside.indexOf(END, from)
    if (end >= 0) {
      this.content = this.inside.slice(0, end)
      this.inside = ''
    } else if (this.inside.length > MAX_CAPTURE) {
      this.tooLarge = true
      this.inside = ''
    }
  }

  parse(): TedgeOutput {
    if (this.tooLarge) return { kind: 'invalid', error: 'is larger than 1 MiB' }
    if (this.content === undefined) return { kind: 'none' }
    try {
      return { kind: 'json', value: JSON.parse(this.content) }
    } catch (error) {
      return { kind: 'invalid', error: `is not valid JSON: ${messageOf(error)}` }
    }
  }
}

function keepTail(text: string): string {
  return text.length > MAX_CAPTURE ? text.slice(-MAX_CAPTURE) : text
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
