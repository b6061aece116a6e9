import type { Logger } from 'pino'
import { LineBudget } from '../config/line-budget'

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
  private readonly budget: LineBudget

  constructor(private readonly logger: Logger) {
    this.budget = new LineBudget(LINES_PER_SECOND, (count) =>
      logger.warn({ count }, 'more mqtt refusals (not logged one by one)'),
    )
  }

  note(kind: RefusalKind, reason: string, details: Record<string, unknown> = {}): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1
    if (this.budget.take()) this.logger.warn({ ...details, kind, reason }, 'mqtt refused')
  }

  stop(): void {
    this.budget.stop()
  }
}
