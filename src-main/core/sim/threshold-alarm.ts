export type Severity = 'critical' | 'major' | 'minor' | 'warning'

export interface AlarmLevel {
  severity: Severity
  /** The level is entered when the value crosses this threshold. */
  raise: number
  /** The level is left when the value is back past this threshold; the gap to `raise` is the hysteresis. */
  clear: number
}

export interface ThresholdAlarmSpec {
  /** `high`: alarm when the value is above the thresholds; `low`: below. */
  direction: 'high' | 'low'
  /** Ordered from least to most severe. */
  levels: readonly AlarmLevel[]
}

/** What an update changed: a new severity, a clear (`null`), or nothing (`undefined`). */
export type AlarmChange = Severity | null | undefined

/** A hysteresis alarm with escalation (e.g. minor → major) so a noisy value does not make it flap. */
export class ThresholdAlarm {
  private level = -1

  constructor(private readonly spec: ThresholdAlarmSpec) {}

  get severity(): Severity | null {
    return this.spec.levels[this.level]?.severity ?? null
  }

  update(value: number): AlarmChange {
    const sign = this.spec.direction === 'high' ? 1 : -1
    const v = value * sign
    const levels = this.spec.levels
    let next = this.level
    for (let i = levels.length - 1; i > next; i--) {
      const level = levels[i]
      if (level && v >= level.raise * sign) {
        next = i
        break
      }
    }
    while (next >= 0) {
      const level = levels[next]
      if (!level || v >= level.clear * sign) break
      next--
    }
    if (next === this.level) return undefined
    this.level = next
    return this.severity
  }
}
