import type { Logger } from 'pino'

/** Rejections reported per second before the rest are only counted (a flood must not become one). */
const REPORTS_PER_SECOND = 50

/**
 * Reports rejected input once each — a log line and a message on `te/errors` — up to a rate, then
 * counts the rest and reports the count, so a misbehaving client cannot turn into a log flood.
 */
export class RejectionReporter {
  private budget = REPORTS_PER_SECOND
  private suppressed = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly publish: (text: string) => void,
  ) {}

  report(topic: string, reason: string): void {
    this.timer ??= setInterval(() => this.refill(), 1000).unref()
    if (this.budget <= 0) {
      this.suppressed++
      return
    }
    this.budget--
    this.logger.warn({ topic, reason }, 'rejected message')
    this.publish(JSON.stringify({ topic, error: reason, time: new Date().toISOString() }))
  }

  private refill(): void {
    if (this.suppressed > 0) {
      this.logger.warn({ count: this.suppressed }, 'more messages rejected (not reported one by one)')
      this.publish(
        JSON.stringify({
          error: `${this.suppressed} more messages rejected`,
          time: new Date().toISOString(),
        }),
      )
      this.suppressed = 0
    } else if (this.budget === REPORTS_PER_SECOND) {
      clearInterval(this.timer)
      this.timer = undefined
    }
    this.budget = REPORTS_PER_SECOND
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
