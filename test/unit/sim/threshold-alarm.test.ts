import { describe, expect, it } from 'vitest'
import { ThresholdAlarm } from '../../../src-main/core/sim/threshold-alarm'

describe('ThresholdAlarm', () => {
  it('raises above the threshold and clears only below the clear threshold', () => {
    const alarm = new ThresholdAlarm({
      direction: 'high',
      levels: [{ severity: 'critical', raise: 90, clear: 80 }],
    })
    expect(alarm.update(85)).toBeUndefined()
    expect(alarm.update(90)).toBe('critical')
    expect(alarm.update(85)).toBeUndefined()
    expect(alarm.update(91)).toBeUndefined()
    expect(alarm.update(79.9)).toBeNull()
    expect(alarm.severity).toBeNull()
  })

  it('escalates and de-escalates through its levels with hysteresis', () => {
    const alarm = new ThresholdAlarm({
      direction: 'high',
      levels: [
        { severity: 'minor', raise: 4.5, clear: 4 },
        { severity: 'major', raise: 7.1, clear: 6.5 },
      ],
    })
    expect(alarm.update(4.6)).toBe('minor')
    expect(alarm.update(7.2)).toBe('major')
    expect(alarm.update(6.8)).toBeUndefined()
    expect(alarm.update(6.4)).toBe('minor')
    expect(alarm.update(4.2)).toBeUndefined()
    expect(alarm.update(3.9)).toBeNull()
  })

  it('jumps straight to the most severe level crossed', () => {
    const alarm = new ThresholdAlarm({
      direction: 'high',
      levels: [
        { severity: 'minor', raise: 4.5, clear: 4 },
        { severity: 'major', raise: 7.1, clear: 6.5 },
      ],
    })
    expect(alarm.update(8)).toBe('major')
    expect(alarm.update(2)).toBeNull()
  })

  it('works for low alarms', () => {
    const alarm = new ThresholdAlarm({
      direction: 'low',
      levels: [{ severity: 'major', raise: 15, clear: 25 }],
    })
    expect(alarm.update(16)).toBeUndefined()
    expect(alarm.update(14.9)).toBe('major')
    expect(alarm.update(20)).toBeUndefined()
    expect(alarm.update(25.1)).toBeNull()
  })
})
