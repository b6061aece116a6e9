import { type AlarmActionDeps, SHELF_TIMER_ACTOR, unshelveAlarm } from './alarm-actions'

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); shelves are shorter, this is a guard. */
const MAX_DELAY_MS = 2 ** 31 - 1

/**
 * Ends shelves when their time is up. The end time is stored with the alarm, so a shelf that
 * ran out while the core was stopped ends at start, and one still running is timed again.
 */
export class ShelfExpiry {
  private timer: NodeJS.Timeout | undefined
  private running = false

  constructor(private readonly deps: AlarmActionDeps) {}

  start(): void {
    this.running = true
    this.schedule()
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Ends the shelves that are due and arms the timer for the next one. */
  schedule(): void {
    if (!this.running) return
    clearTimeout(this.timer)
    this.timer = undefined
    const now = this.deps.now()
    for (const alarm of this.deps.alarms.allOpen())
      if (alarm.shelvedUntil !== null && alarm.shelvedUntil <= now)
        unshelveAlarm({ ...this.deps, shelvesChanged: undefined }, alarm, SHELF_TIMER_ACTOR)
    const next = this.deps.alarms.nextShelfEnd()
    if (next === undefined) return
    this.timer = setTimeout(() => this.schedule(), Math.min(Math.max(next - now, 0), MAX_DELAY_MS))
  }
}
