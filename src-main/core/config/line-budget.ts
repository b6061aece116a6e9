/**
 * A flood must not become a log flood: lets `perSecond` items through one by one each second,
 * counts the rest, and hands that count to `onSuppressed` once the second is over.
 */
export class LineBudget {
  private budget: number
  private suppressed = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly perSecond: number,
    private readonly onSuppressed: (count: number) => void,
  ) {
    this.budget = perSecond
  }

  /** True when this item may be reported on its own; otherwise it is only counted. */
  take(): boolean {
    this.timer ??= setInterval(() => this.refill(), 1000).unref()
    if (this.budget <= 0) {
      this.suppressed++
      return false
    }
    this.budget--
    return true
  }

  private refill(): void {
    if (this.suppressed > 0) {
      this.onSuppressed(this.suppressed)
      this.suppressed = 0
    } else if (this.budget === this.perSecond) {
      // A quiet second: no timer until the next item.
      clearInterval(this.timer)
      this.timer = undefined
    }
    this.budget = this.perSecond
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
