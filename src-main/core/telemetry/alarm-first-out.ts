/**
 * First-out (an alarm-management idea from ISA-18.2): when one fault trips a line, a burst of
 * alarms follows it, and the operator needs to know which came first. A burst is every alarm
 * raised (newly, not raised again) under the same top-level device within `windowMs` of the
 * burst's first one; that first alarm is the first-out. A lone alarm is no burst and gets no mark.
 */
export const FIRST_OUT_WINDOW_MS = 10_000

interface Burst {
  start: number
  leader: number
}

export class FirstOutTracker {
  /** The latest burst by group (the top-level device's entity id). */
  private readonly bursts = new Map<number, Burst>()

  constructor(private readonly windowMs = FIRST_OUT_WINDOW_MS) {}

  /**
   * A new alarm `id` raised at `time` in `group`: the id of the burst's first alarm when this one
   * follows it within the window, else undefined (and this alarm may lead the next burst).
   */
  follow(group: number, id: number, time: number): number | undefined {
    const burst = this.bursts.get(group)
    if (burst && time >= burst.start && time - burst.start <= this.windowMs) return burst.leader
    this.bursts.set(group, { start: time, leader: id })
    return undefined
  }

  forget(groups: Iterable<number>): void {
    for (const group of groups) this.bursts.delete(group)
  }
}
