import { spawn } from 'node:child_process'

// One plugin call as a child process, logged the way thin-edge.io's CommandLog writes a command to
// the operation's log (tedge_api/src/workflow/log/logged_command.rs `log_outcome`).

export type PluginExit =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: string }
  /** Ran past its timeout; it was sent SIGTERM, then SIGKILL. */
  | { kind: 'timeout' }
  /** The caller's AbortSignal fired; it was sent SIGTERM, then SIGKILL. */
  | { kind: 'aborted' }
  /** Could not be started (not found, not executable). */
  | { kind: 'spawn-failed'; error: string }

export interface PluginCallResult {
  exit: PluginExit
  stdout: string
  stderr: string
  /** The program and its quoted arguments, as logged. */
  commandLine: string
}

export interface PluginCallOptions {
  /** Written to the plugin's stdin, then closed; without it stdin is /dev/null. */
  stdin?: string
  /** Milliseconds before the call is killed. */
  timeoutMs: number
  /** Milliseconds between SIGTERM and SIGKILL (thin-edge.io's graceful then forceful timeout). */
  killGraceMs: number
  signal?: AbortSignal
  log?: (line: string) => void
  env?: NodeJS.ProcessEnv
  /** The plugin started, leading its own process group. */
  onSpawn?: (pid: number) => void
}

/**
 * Once the plugin itself has exited, how long to wait for its stdout/stderr to close. A daemon
 * started by a package's postinst script can inherit the pipes and hold them open for ever.
 */
const PIPE_DRAIN_MS = 1000

export function formatCommandLine(program: string, args: readonly string[]): string {
  // thin-edge.io prints the arguments Debug-quoted, so each one reads unambiguously.
  return [program, ...args.map((a) => JSON.stringify(a))].join(' ')
}

export function runPluginProcess(
  program: string,
  args: readonly string[],
  options: PluginCallOptions,
): Promise<PluginCallResult> {
  const commandLine = formatCommandLine(program, args)
  return new Promise((resolve) => {
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let outcome: PluginExit | undefined
    let stopReason: 'timeout' | 'aborted' | undefined
    let settled = false
    const timers: NodeJS.Timeout[] = []

    // Its own process group, so a timeout or an abort also stops what the plugin started (apt-get, dpkg).
    const child = spawn(program, args, {
      detached: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    })
    if (child.pid !== undefined) options.onSpawn?.(child.pid)

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        // Already gone.
      }
    }

    const stop = (reason: 'timeout' | 'aborted') => {
      if (stopReason || outcome) return
      stopReason = reason
      killGroup('SIGTERM')
      timers.push(setTimeout(() => killGroup('SIGKILL'), options.killGraceMs))
    }

    const finish = () => {
      if (settled) return
      settled = true
      for (const t of timers) clearTimeout(t)
      options.signal?.removeEventListener('abort', onAbort)
      let exit = outcome ?? { kind: 'spawn-failed', error: 'no exit status' }
      let err = Buffer.concat(stderr).toString('utf8')
      if (stopReason === 'timeout') {
        exit = { kind: 'timeout' }
        // thin-edge.io's wording for a command killed on timeout (logged_command.rs `update_stderr_message`).
        err += `operation failed due to timeout: duration=${Math.round(options.timeoutMs / 1000)}s\n`
      } else if (stopReason === 'aborted') {
        exit = { kind: 'aborted' }
      }
      const result = { exit, stdout: Buffer.concat(stdout).toString('utf8'), stderr: err, commandLine }
      logOutcome(result, options.log)
      resolve(result)
    }

    const onAbort = () => stop('aborted')

    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', (error) => {
      // Spawn failures come here without an exit; later errors (a kill after exit) are ignored.
      if (outcome) return
      outcome = { kind: 'spawn-failed', error: error.message }
      finish()
    })
    child.on('exit', (code, signal) => {
      outcome = code !== null ? { kind: 'exited', code } : { kind: 'killed', signal: signal ?? 'unknown' }
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy()
          child.stderr?.destroy()
          finish()
        }, PIPE_DRAIN_MS),
      )
    })
    child.on('close', finish)

    if (child.stdin) {
      // A plugin without update-list may exit without reading its stdin (sm-plugin API: it "can close
      // its stdin"); the broken pipe that follows is expected.
      child.stdin.on('error', () => {})
      child.stdin.end(options.stdin)
    }
    timers.push(setTimeout(() => stop('timeout'), options.timeoutMs))
    if (options.signal?.aborted) stop('aborted')
    else options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function logOutcome(result: PluginCallResult, log?: (line: string) => void): void {
  if (!log) return
  log(`----- $ ${result.commandLine}`)
  const { exit } = result
  switch (exit.kind) {
    case 'exited':
      log(`Exit status: ${exit.code} (${exit.code === 0 ? 'OK' : 'ERROR'})`)
      break
    case 'killed':
      log(`Killed by signal: ${exit.signal}`)
      break
    case 'timeout':
      log('Killed on timeout')
      break
    case 'aborted':
      log('Killed: the operation was aborted')
      break
    case 'spawn-failed':
      log(`error: ${exit.error}`)
      return
  }
  log('')
  // stderr before stdout: stderr carries the messages, stdout the results (thin-edge.io's order).
  logStream('stderr', result.stderr, log)
  log('')
  logStream('stdout', result.stdout, log)
}

function logStream(name: string, text: string, log: (line: string) => void): void {
  if (text === '') {
    log(`${name} (EMPTY)`)
    return
  }
  log(`${name} <<EOF`)
  for (const line of text.replace(/\n$/, '').split('\n')) log(line)
  log('EOF')
}
