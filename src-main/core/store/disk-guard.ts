import { statfsSync } from 'node:fs'
import { formatSize } from '../config/size'

/** How often free space is read, in ms: statfs costs microseconds, and a disk fills in seconds. */
const CHECK_MS = 1000
/** Back to normal only above the reserve by this share, so the state does not flap at its edge. */
const HYSTERESIS = 1.25

export type DiskCondition = 'ok' | 'low' | 'full'

export interface DiskState {
  /** `low`: less free space than the reserve; `full`: the store could not write. */
  condition: DiskCondition
  /** Free space for the core's user on the data dir's volume, in bytes (null if unknown). */
  freeBytes: number | null
  reserveBytes: number
  /** When the condition began, epoch ms. */
  since: number
  /** What a refused publisher is told, while not ok. */
  reason: string | null
}

export interface DiskGuardDeps {
  dir: string
  reserveBytes: number
  now: () => number
  onChange: (state: DiskState) => void
}

/**
 * Watches the data dir's volume. Below the reserve, or once the store fails to write, the core
 * refuses new data from devices (they keep it and send it again) instead of acknowledging what it
 * cannot store; the reserve leaves room for its own alarm, the sessions and the logs. It returns to
 * normal by itself when space is freed: no restart.
 */
export class DiskGuard {
  private condition: DiskCondition = 'ok'
  private since: number
  private freeBytes: number | null = null
  private storageError: Error | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly deps: DiskGuardDeps) {
    this.since = deps.now()
  }

  start(): void {
    this.check()
    this.timer = setInterval(() => this.check(), CHECK_MS).unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The writer's storage failed (or recovered, with undefined). */
  storageFailed(error: Error | undefined): void {
    this.storageError = error
    this.check()
  }

  /** Why new data is refused now, or undefined when it is taken. */
  get refusal(): string | undefined {
    return this.condition === 'ok' ? undefined : (this.view().reason ?? undefined)
  }

  view(): DiskState {
    const { reserveBytes, dir } = this.deps
    const free = this.freeBytes === null ? 'unknown' : formatSize(this.freeBytes)
    const reason =
      this.condition === 'full'
        ? `disk full: the store cannot write (${this.storageError?.message ?? 'no space'}); new data is refused until space is freed`
        : this.condition === 'low'
          ? `disk almost full: ${free} free on ${dir}, below the ${formatSize(reserveBytes)} reserve; new data is refused until space is freed`
          : null
    return { condition: this.condition, freeBytes: this.freeBytes, reserveBytes, since: this.since, reason }
  }

  private check(): void {
    try {
      const stats = statfsSync(this.deps.dir)
      this.freeBytes = stats.bavail * stats.bsize
    } catch {
      this.freeBytes = null
    }
    const { reserveBytes } = this.deps
    const free = this.freeBytes
    let next: DiskCondition
    if (this.storageError) next = 'full'
    else if (free === null) next = 'ok'
    else if (free < reserveBytes) next = 'low'
    else if (this.condition !== 'ok' && free < reserveBytes * HYSTERESIS) next = 'low'
    else next = 'ok'
    if (next === this.condition) return
    this.condition = next
    this.since = this.deps.now()
    this.deps.onChange(this.view())
  }
}
