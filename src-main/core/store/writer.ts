import type { Database } from 'better-sqlite3'

export interface WriterOptions {
  /** Flush when this many operations are queued. */
  maxOps: number
  /** Flush at the latest this long after the first queued operation, in ms. */
  maxDelayMs: number
  /** A batch could not be written (once per failure, not per retry), or an operation was dropped. */
  onError: (error: unknown) => void
  /** The store stopped or started taking writes (the disk filled up or has room again). */
  onStorageState?: (failing: Error | undefined) => void
}

type Op = () => void

/** Work buffered outside the op queue, written at the start of every transaction. */
export interface CommitHook {
  /** Writes the buffered work; runs inside the transaction and may run again if it rolls back. */
  write(): void
  /** The transaction committed: drop what was written. */
  committed(): void
}

/** A failed batch is written again after this long, doubling up to the maximum (ms). */
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 2000

/**
 * SQLite's answers that say the storage, not the data, is at fault: the same batch can commit once
 * the disk has room again or the device is back (sqlite.org/rescode.html).
 */
export function isStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return (
    typeof code === 'string' &&
    (isDiskFull(error) ||
      code === 'SQLITE_IOERR' ||
      code.startsWith('SQLITE_IOERR_') ||
      code === 'SQLITE_BUSY' ||
      code === 'SQLITE_READONLY' ||
      code === 'SQLITE_CANTOPEN')
  )
}

/** The volume has no room left: SQLite's SQLITE_FULL, or a file write's ENOSPC. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'SQLITE_FULL' || code === 'ENOSPC'
}

/**
 * Group commit for the single writer connection: operations queue up and run in one transaction;
 * acknowledgements (a held MQTT PUBACK) and post-commit callbacks run only once that transaction
 * has committed. A waiting acknowledgement makes the flush happen on the next turn of the event
 * loop instead of after maxDelayMs, so a QoS 1 publisher is held for one commit, not a timer.
 *
 * A batch the storage refuses (disk full, I/O error) is kept whole and written again until it
 * commits: nothing it acknowledges or announces is released before that, and the stores' memory
 * never runs ahead of what will be stored. Meanwhile `failing` tells the ingest to refuse new data.
 */
export class BatchWriter {
  private ops: Op[] = []
  private after: Op[] = []
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private stopped = false
  private failure: Error | undefined
  private retryMs = RETRY_MIN_MS
  private readonly commit: (ops: Op[]) => void
  private readonly hooks: CommitHook[] = []

  constructor(
    private readonly db: Database,
    private readonly options: WriterOptions,
  ) {
    this.commit = db.transaction((ops: Op[]) => {
      for (const hook of this.hooks) hook.write()
      for (const op of ops) op()
    })
  }

  get pending(): number {
    return this.ops.length
  }

  /** Why the last batch could not be stored, while it is waiting to be written again. */
  get failing(): Error | undefined {
    return this.failure
  }

  /** Registers buffered work written at the start of every flush, inside its transaction. */
  beforeEachCommit(hook: CommitHook): void {
    this.hooks.push(hook)
  }

  write(op: Op): void {
    this.ops.push(op)
    this.schedule()
  }

  /** Runs `callback` after the transaction holding everything queued so far has committed. */
  afterCommit(callback: Op, urgent = false): void {
    this.after.push(callback)
    if (urgent) this.scheduleNow()
    else this.schedule()
  }

  /** Counts externally buffered work (samples) toward the size limit. */
  touched(count = 1): void {
    if (count >= this.options.maxOps) this.scheduleNow()
    else this.schedule()
  }

  private schedule(): void {
    if (this.stopped || this.failure) return
    if (this.ops.length >= this.options.maxOps) this.scheduleNow()
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs)
  }

  private scheduleNow(): void {
    if (this.stopped || this.failure) return
    this.immediate ??= setImmediate(() => this.flush())
  }

  /** Writes what is queued; false when the storage refused it (it stays queued). */
  flush(): boolean {
    if (this.timer) clearTimeout(this.timer)
    if (this.immediate) clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    const ops = this.ops
    const after = this.after
    this.ops = []
    this.after = []
    try {
      this.commit(ops)
    } catch (error) {
      if (isStorageError(error) || !this.isolate(ops)) {
        // Rolled back whole: keep it, in order, ahead of what came meanwhile.
        this.ops = ops.concat(this.ops)
        this.after = after.concat(this.after)
        this.failed(error as Error)
        return false
      }
    }
    for (const hook of this.hooks) hook.committed()
    this.recovered()
    for (const callback of after) {
      // One failing listener must not keep the acknowledgements queued after it from their senders.
      try {
        callback()
      } catch (error) {
        this.options.onError(error)
      }
    }
    return true
  }

  /**
   * After a batch failed on its data (a bad row, not the storage): writes the buffered work and each
   * operation on its own, so one bad row cannot take the rest with it. False, with nothing kept,
   * when the storage fails meanwhile.
   */
  private isolate(ops: Op[]): boolean {
    const alone = (work: () => void) => {
      try {
        this.db.transaction(work)()
      } catch (error) {
        // The storage failing fails the whole batch; anything else drops this piece only.
        if (isStorageError(error)) throw error
        this.options.onError(error)
      }
    }
    try {
      this.db.transaction(() => {
        alone(() => {
          for (const hook of this.hooks) hook.write()
        })
        for (const op of ops) alone(op)
      })()
      return true
    } catch {
      return false
    }
  }

  private failed(error: Error): void {
    if (!this.failure) {
      this.failure = error
      this.options.onError(error)
      this.options.onStorageState?.(error)
    }
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, this.retryMs)
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2)
  }

  private recovered(): void {
    this.retryMs = RETRY_MIN_MS
    if (!this.failure) return
    this.failure = undefined
    this.options.onStorageState?.(undefined)
  }

  /** Flushes what is queued and refuses further scheduling; false when it could not be stored. */
  stop(): boolean {
    this.stopped = true
    return this.flush()
  }
}
