import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, vi } from 'vitest'
import type { Ready } from '../../src-main/core/app'

// The real CLI as a child process: dist/cli.js, built by `npm run build:core` (or `npm test`).

const BIN = fileURLToPath(new URL('../../bin/edgetwin.js', import.meta.url))

export interface CliExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface CliProcess {
  child: ChildProcess
  /** Settles on 'close': stdout and stderr have been read to the end. */
  exited: Promise<CliExit>
  stdout: () => string
  stderr: () => string
}

export interface ServingCli extends CliProcess {
  ready: Ready
  /** fetch against the core's HTTP server, with its bearer token. */
  http(pathname: string, init?: RequestInit): Promise<Response>
  /** GET returning parsed JSON; throws on a non-2xx answer. */
  json<T>(pathname: string): Promise<T>
}

export interface ServeOptions {
  /** More `serve` options, after the data dir, the ports, `--no-sim` and `--ready-file`. */
  args?: string[]
  /** The CLI's environment (default: this process's), which workflow scripts and sm-plugins inherit. */
  env?: NodeJS.ProcessEnv
  /**
   * A command that runs the CLI as its last arguments and ends by exec-ing it, so the pid stays the
   * CLI's: `['bash', '-c', 'ulimit -n 256; exec "$@"', 'bash']`, `['unshare', '--net', …]`.
   */
  wrap?: string[]
}

/** Starts CLI processes and, in `cleanup()`, SIGKILLs whichever of them still run. */
export class CliProcesses {
  private readonly children = new Set<ChildProcess>()
  private readyFiles = 0

  run(args: string[], env?: NodeJS.ProcessEnv, wrap: string[] = []): CliProcess {
    const [command, ...prefix] = [...wrap, process.execPath, BIN, ...args] as [string, ...string[]]
    const child = spawn(command, prefix, { stdio: ['ignore', 'pipe', 'pipe'], env })
    this.children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<CliExit>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    )
    return { child, exited, stdout: () => stdout, stderr: () => stderr }
  }

  /** `edgetwin serve` on ephemeral ports without the simulator; resolves once the ready file is there. */
  async serve(dataDir: string, options: ServeOptions = {}): Promise<ServingCli> {
    const readyFile = path.join(dataDir, `ready-${++this.readyFiles}.json`)
    const cli = this.run(
      [
        'serve',
        '--data-dir',
        dataDir,
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
        '--no-sim',
        '--ready-file',
        readyFile,
        ...(options.args ?? []),
      ],
      options.env,
      options.wrap,
    )
    let exit: CliExit | undefined
    void cli.exited.then((e) => {
      exit = e
    })
    const ready = await vi.waitFor(
      () => {
        if (exit)
          throw new Error(
            `edgetwin serve exited (${exit.code ?? exit.signal}) before it was ready: ${cli.stderr()}`,
          )
        if (!existsSync(readyFile)) throw new Error(`no ready file yet; stderr: ${cli.stderr()}`)
        return JSON.parse(readFileSync(readyFile, 'utf8')) as Ready
      },
      { timeout: 15_000, interval: 25 },
    )
    expect(ready.pid).toBe(cli.child.pid)
    const http = (pathname: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers)
      headers.set('authorization', `Bearer ${ready.token}`)
      return fetch(new URL(pathname, ready.http), { ...init, headers })
    }
    return {
      ...cli,
      ready,
      http,
      async json<T>(pathname: string) {
        const response = await http(pathname)
        if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`)
        return (await response.json()) as T
      },
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.children].map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL')
          await once(child, 'exit')
        }
      }),
    )
    this.children.clear()
  }
}

/** The power cord: SIGKILL, nothing flushed or closed. */
export async function kill9(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGKILL')
  expect(await cli.exited).toEqual({ code: null, signal: 'SIGKILL' })
}
