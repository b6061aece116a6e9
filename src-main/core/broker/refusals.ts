import type { Logger } from 'pino'

/** Why the broker closed a connection or refused what a client sent. */
export type RefusalKind =
  | 'connection limit'
  | 'packet size'
  | 'protocol'
  | 'authentication'
  | 'tls'
  | 'retained'
  | 'subscriptions'
  | 'sessions'
  | 'queue'

/** Lines logged per second before the rest are only counted: a flood of refusals must not become one. */
const LINES_PER_SECOND = 10

/**
 * Counts every refusal by kind and logs them, one line each up to a rate, then a count each second.
 * Closing the connection is all MQTT 3.1.1 allows as an answer to most of them, so this log (and the
 * counts in /api/v1/status) is where an operator sees them.
 */
export class RefusalLog {
  readonly counts: Partial<Record<RefusalKind, number>> = {}
  private budget = LINES_PER_SECOND
  private suppressed = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly logger: Logger) {}

  note(kind: RefusalKind, reason: string, details: Record<string, unknown> = {}): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1
    this.timer ??= setInterval(() => this.refill(), 1000).unref()
    if (this.budget <= 0) {
      this.suppressed++
      return
    }
    this.budget--
    this.logger.warn({ ...details, kind, reason }, 'mqtt refused')
  }

  private refill(): void {
    if (this.suppressed > 0) {
      this.logger.warn({ count: this.suppressed }, 'more mqtt refusals (not logged one by one)')
      this.suppressed = 0
    } else if (this.budget === LINES_PER_SECOND) {
      clearInterval(this.timer)
      this.timer = undefined
    }
    this.budget = LINES_PER_SECOND
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
