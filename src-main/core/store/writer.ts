import type { Database } from 'better-sqlite3'

export interface WriterOptions {
  /** Flush when this many operations are queued. */
  maxOps: number
  /** Flush at the latest this long after the first queued operation, in ms. */
  maxDelayMs: number
  onError: (error: unknown) => void
}

type Op = () => void

/** Work buffered outside the op queue, written at the start of every transaction. */
export interface CommitHook {
  /** Writes the buffered work; runs inside the transaction and may run again if it rolls back. */
  write(): void
  /** The transaction committed: drop what was written. */
  committed(): void
}

/**
 * Group commit for the single writer connection: operations queue up and run in one transaction;
 * acknowledgements (a held MQTT PUBACK) and post-commit callbacks run only once that transaction
 * has committed. A waiting acknowledgement makes the flush happen on the next turn of the event
 * loop instead of after maxDelayMs, so a QoS 1 publisher is held for one commit, not a timer.
 */
export class BatchWriter {
  private ops: Op[] = []
  private after: Op[] = []
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private stopped = false
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
    if (this.stopped) return
    if (this.ops.length >= this.options.maxOps) this.scheduleNow()
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs)
  }

  private scheduleNow(): void {
    if (this.stopped) return
    this.immediate ??= setImmediate(() => this.flush())
  }

  flush(): void {
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
      // A failing batch is rolled back whole; report it, then write the buffered work and retry the
      // operations one by one, so a single bad row cannot take the rest of the batch with it.
      this.options.onError(error)
      this.isolate(ops)
    }
    for (const hook of this.hooks) hook.committed()
    for (const callback of after) callback()
  }

  private isolate(ops: Op[]): void {
    try {
      this.db.transaction(() => {
        for (const hook of this.hooks) hook.write()
      })()
    } catch (error) {
      this.options.onError(error)
    }
    for (const op of ops) {
      try {
        this.db.transaction(op)()
      } catch (error) {
        this.options.onError(error)
      }
    }
  }

  /** Flushes what is queued and refuses further scheduling. */
  stop(): void {
    this.flush()
    this.stopped = true
  }
}
