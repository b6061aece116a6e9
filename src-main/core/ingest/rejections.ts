import type { Logger } from 'pino'
import { LineBudget } from '../config/line-budget'

/** Rejections reported per second before the rest are only counted (a flood must not become one). */
const REPORTS_PER_SECOND = 50

/**
 * Reports rejected input once each — a log line and a message on `te/errors` — up to a rate, then
 * counts the rest and reports the count, so a misbehaving client cannot turn into a log flood.
 */
export class RejectionReporter {
  private readonly budget: LineBudget

  constructor(
    private readonly logger: Logger,
    private readonly publish: (text: string) => void,
  ) {
    this.budget = new LineBudget(REPORTS_PER_SECOND, (count) => {
      logger.warn({ count }, 'more messages rejected (not reported one by one)')
      publish(JSON.stringify({ error: `${count} more messages rejected`, time: new Date().toISOString() }))
    })
  }

  report(topic: string, reason: string): void {
    if (!this.budget.take()) return
    this.logger.warn({ topic, reason }, 'rejected message')
    this.publish(JSON.stringify({ topic, error: reason, time: new Date().toISOString() }))
  }

  stop(): void {
    this.budget.stop()
  }
}
