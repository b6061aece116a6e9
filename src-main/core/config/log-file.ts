import { closeSync, fstatSync, openSync, renameSync, write } from 'node:fs'

/** Lines waiting for the disk beyond this are dropped (and counted), in bytes. */
const MAX_QUEUED_BYTES = 1024 * 1024
/** The log is rotated at this size, keeping this many older files (edgetwin.log.1, .2). */
const ROTATE_BYTES = 16 * 1024 * 1024
const KEEP_FILES = 2
/** After a failed write, lines are dropped for this long before the file is tried again, in ms. */
const RETRY_MS = 1000

/**
 * The core's log file. Logging must never block or stop the core: lines are appended asynchronously
 * from a bounded queue, and when the volume is full or failing they are dropped and counted instead
 * of retried (pino's own destination retries a failed synchronous flush forever at exit, which froze
 * the core on a full disk). The file is rotated by size, so the log cannot fill the disk either.
 */
export class LogFile {
  /** Lines lost to a full queue or a failed write since start. */
  dropped = 0
  private fd: number | undefined
  private size = 0
  private queue: string[] = []
  private queuedBytes = 0
  private writing = false
  private closed = false
  private failedAt = 0
  private lastError: string | undefined
  private readonly drained: Array<() => void> = []

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.fd = openSync(file, 'a', 0o600)
    this.size = fstatSync(this.fd).size
  }

  /** Why the last write failed, while lines are being dropped. */
  get error(): string | undefined {
    return this.lastError
  }

  write(line: string): void {
    if (this.closed) return
    if (this.queuedBytes + line.length > MAX_QUEUED_BYTES || this.now() - this.failedAt < RETRY_MS) {
      this.dropped++
      return
    }
    this.queue.push(line)
    this.queuedBytes += line.length
    if (!this.writing) this.pump()
  }

  private pump(): void {
    const fd = this.fd
    if (this.queue.length === 0 || fd === undefined || this.closed) {
      this.writing = false
      if (this.closed) this.closeFile()
      for (const resolve of this.drained.splice(0)) resolve()
      return
    }
    this.writing = true
    const lines = this.queue
    this.queue = []
    this.queuedBytes = 0
    const buffer = Buffer.from(lines.join(''))
    write(fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error || written < buffer.length) {
        this.dropped += lines.length
        this.failedAt = this.now()
        // A short write to a regular file means the volume (or a quota) has no room left.
        this.lastError = error?.code ?? error?.message ?? 'ENOSPC (short write)'
      } else {
        if (this.lastError !== undefined) this.lastError = undefined
        this.size += written
        if (this.size >= ROTATE_BYTES) this.rotate()
      }
      this.pump()
    })
  }

  private rotate(): void {
    try {
      for (let n = KEEP_FILES; n > 1; n--) renameQuietly(`${this.file}.${n - 1}`, `${this.file}.${n}`)
      renameSync(this.file, `${this.file}.1`)
      const fd = openSync(this.file, 'a', 0o600)
      if (this.fd !== undefined) closeSync(this.fd)
      this.fd = fd
      this.size = 0
    } catch {
      // Rotation is best effort: the current file goes on growing until the next attempt.
      this.size = 0
    }
  }

  /** Waits for the queued lines to be written (or dropped), at most `timeoutMs`. */
  flush(timeoutMs = 1000): Promise<void> {
    if (!this.writing) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.drained.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Stops taking lines; the descriptor is closed once a write under way has finished. */
  close(): void {
    this.closed = true
    if (!this.writing) this.closeFile()
  }

  private closeFile(): void {
    const fd = this.fd
    this.fd = undefined
    this.queue = []
    if (fd !== undefined) closeSync(fd)
  }
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to)
  } catch {
    // not there yet
  }
}
