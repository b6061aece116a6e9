/**
 * How often a series is expected to get a value, and when its latest value counts as stale.
 *
 * The period is learned from the series' own sample times: the median of its last PERIOD_WINDOW
 * intervals. A median (not a mean) so that one outage or one burst of buffered values does not
 * move it; a fixed small window so the memory per series is bounded (15 float64s) and the cost per
 * value is one store into a ring. The window lives in memory only: after a restart it is refilled
 * from the last stored samples the first time the period is asked for (SeriesStore.expectedPeriod),
 * which costs one indexed read per series and no schema change.
 */

/** Intervals kept per series (odd, so the median is one of them). */
export const PERIOD_WINDOW = 15
/** Intervals needed before a period counts as learned: two values say little about a rhythm. */
export const MIN_INTERVALS = 3
/** A value is stale once older than this many expected periods (a missed value or two is jitter). */
export const STALE_FACTOR = 3
/**
 * ...and never before this age, in ms: a series sampled every 100 ms is not stale after 300 ms of
 * batching, coalescing (the live stream sends every 250 ms) or a busy broker.
 */
export const STALE_FLOOR_MS = 10_000

/** The last intervals of one series, in ms, as a ring. */
export class IntervalWindow {
  private readonly ring = new Float64Array(PERIOD_WINDOW)
  private next = 0
  private count = 0
  private median: number | undefined

  add(interval: number): void {
    if (!(interval > 0)) return
    this.ring[this.next] = interval
    this.next = (this.next + 1) % PERIOD_WINDOW
    if (this.count < PERIOD_WINDOW) this.count++
    this.median = undefined
  }

  /** Fills the window from sample times (ascending), as after a restart. */
  addTimes(times: readonly number[]): void {
    for (let i = 1; i < times.length; i++) this.add((times[i] as number) - (times[i - 1] as number))
  }

  get size(): number {
    return this.count
  }

  /** The median interval in ms, or undefined while fewer than MIN_INTERVALS are known. */
  period(): number | undefined {
    if (this.count < MIN_INTERVALS) return undefined
    if (this.median === undefined) {
      const sorted = this.ring.slice(0, this.count).sort()
      this.median = sorted[this.count >> 1] as number
    }
    return this.median
  }
}

export type PeriodSource = 'learned' | 'configured'

export interface ExpectedPeriod {
  /** ms */
  period: number
  source: PeriodSource
}

/**
 * The one place that decides a series' expected period. A period configured for the series (per
 * series settings, in ms) wins over the learned one.
 */
export function expectedPeriod(
  learned: number | undefined,
  configured: number | undefined = undefined,
): ExpectedPeriod | undefined {
  if (configured !== undefined && configured > 0) return { period: configured, source: 'configured' }
  if (learned !== undefined) return { period: learned, source: 'learned' }
  return undefined
}

/** The age in ms after which a value of a series with this period is stale. */
export function staleAfter(period: number): number {
  return Math.max(STALE_FACTOR * period, STALE_FLOOR_MS)
}

/** Whether a value stamped `time` is stale at `now`; never without an expected period. */
export function isStale(time: number | undefined, period: number | undefined, now: number): boolean {
  return time !== undefined && period !== undefined && now - time > staleAfter(period)
}
