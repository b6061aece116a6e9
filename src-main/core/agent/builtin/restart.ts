import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { runScript } from '../workflow/script'
import { type BuiltinOperation, OperationFailure } from './builtin'

export interface RestartOptions {
  /** The command that restarts the device (thin-edge.io `system.toml` `reboot`), if configured. */
  rebootCommand: () => string[] | undefined
  /** Changes when the device boots (Linux: /proc/sys/kernel/random/boot_id). */
  bootId: () => string
  /** How long the device may take to go down once the command succeeded. */
  timeoutMs: number
}

const WORKFLOW = `operation = "restart"

[init]
action = "proceed"
on_success = "scheduled"

[scheduled]
action = "proceed"
on_success = "executing"

# Reference §3.2: "executing" is published before the device goes down, "successful" once it is back.
[executing]
action = "builtin:restart:reboot"
on_success = "successful"
on_error = "failed"

[successful]
action = "cleanup"

[failed]
action = "cleanup"
`

/** Restarts the main device; the command succeeds only if the device really booted again. */
export function restartOperation(options: RestartOptions): BuiltinOperation {
  return {
    name: 'restart',
    workflow: WORKFLOW,
    capability: () => (options.rebootCommand() ? {} : undefined),
    steps: {
      async reboot(context) {
        const noted = context.operation.agentState.bootId
        if (context.resumed && typeof noted === 'string') {
          if (options.bootId() !== noted) return {}
          throw new OperationFailure('The agent has been restarted but not the device')
        }
        const command = options.rebootCommand()
        if (!command) throw new OperationFailure('No restart command: set [system] reboot in system.toml')
        context.note({ bootId: options.bootId() })
        context.log(`restarting the device: ${command.join(' ')}`)
        const result = await runScript(command, { signal: context.signal, timeoutMs: 60_000 })
        if (result.exit.kind !== 'exited' || result.exit.code !== 0) {
          const detail = result.stderr.trim() || describeExit(result.exit)
          throw new OperationFailure(`The restart command "${command.join(' ')}" failed: ${detail}`)
        }
        await sleep(options.timeoutMs, undefined, { signal: context.signal }).catch(() => {})
        if (context.signal.aborted) throw new OperationFailure('The restart was interrupted')
        const minutes = Math.round(options.timeoutMs / 60_000)
        throw new OperationFailure(
          `The device has not restarted within ${minutes >= 1 ? `${minutes} minutes` : `${options.timeoutMs / 1000} s`}`,
        )
      },
    },
  }
}

function describeExit(exit: { kind: string; code?: number; signal?: string; error?: string }): string {
  if (exit.kind === 'exited') return `exit code ${exit.code}`
  if (exit.kind === 'killed') return `killed by ${exit.signal}`
  if (exit.kind === 'timeout') return 'timed out'
  return exit.error ?? exit.kind
}

/** The boot id of a Linux machine; elsewhere the process start, so a restart is never faked. */
export function readBootId(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return `no-boot-id-${process.pid}`
  }
}
