import type { Ready } from '../core/app'
import { type CoreRunOptions, describeCoreFailure, isFromCore, type ToCore } from './core-protocol'

/** The core's process as the host sees it; main.ts adapts Electron's UtilityProcess to this. */
export interface CoreChild {
  postMessage(message: ToCore): void
  /** Ends the process at once (SIGTERM on POSIX, TerminateProcess on Windows). */
  kill(): boolean
  onMessage(listener: (message: unknown) => void): void
  onExit(listener: (code: number) => void): void
}

export interface CoreHostOptions {
  fork: () => CoreChild
  /** How long a clean stop may take (flushing the last batch, closing SQLite) before the process is killed. */
  stopTimeoutMs?: number
  /** The core's process ended while nobody asked it to. */
  onUnexpectedExit?: (code: number) => void
}

export type StopOutcome = 'stopped' | 'killed' | 'not running'

/** After a kill, how long to wait for the exit event before giving up on it (ms). */
const KILL_GRACE_MS = 2_000

/**
 * Runs the core in its own process and stops it cleanly: a `stop` message makes it call core.stop()
 * and exit; if it has not exited within the timeout it is killed, so quitting the app never hangs.
 */
export class CoreHost {
  readonly #options: CoreHostOptions
  #child: CoreChild | undefined
  #exited: Promise<number> | undefined
  #stopping: Promise<StopOutcome> | undefined

  constructor(options: CoreHostOptions) {
    this.#options = options
  }

  get running(): boolean {
    return this.#child !== undefined
  }

  start(options: CoreRunOptions): Promise<Ready> {
    if (this.#child) return Promise.reject(new Error('the core is already running'))
    const child = this.#options.fork()
    this.#child = child
    this.#stopping = undefined
    let ready = false
    return new Promise<Ready>((resolve, reject) => {
      this.#exited = new Promise<number>((resolveExit) => {
        child.onExit((code) => {
          if (this.#child === child) this.#child = undefined
          resolveExit(code)
          if (!ready) reject(new Error(`the core's process exited with code ${code} before it was ready`))
          else if (!this.#stopping) this.#options.onUnexpectedExit?.(code)
        })
      })
      child.onMessage((message) => {
        if (!isFromCore(message)) return
        if (message.type === 'ready') {
          ready = true
          resolve(message.ready)
        } else reject(new Error(describeCoreFailure(message.message)))
      })
      child.postMessage({ type: 'start', options })
    })
  }

  /** Idempotent: a second call while stopping gets the same outcome. */
  stop(): Promise<StopOutcome> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<StopOutcome> {
    const child = this.#child
    const exited = this.#exited
    if (!child || !exited) return 'not running'
    child.postMessage({ type: 'stop' })
    const timeoutMs = this.#options.stopTimeoutMs ?? 10_000
    if (await settlesWithin(exited, timeoutMs)) return 'stopped'
    child.kill()
    await settlesWithin(exited, KILL_GRACE_MS)
    this.#child = undefined
    return 'killed'
  }
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    promise.then(() => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}
