import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../../src-main/core/audit/audit-store'
import { alarmHistory } from '../../../src-main/core/telemetry/alarm-history'
import type { Alarm } from '../../../src-main/core/telemetry/alarm-store'

// How an alarm's own record and its audited shelves become one history, in the cases the
// integration tests cannot reach over the API: an alarm stored before raise times were kept,
// an inherited shelf that was ended, and steps at the same instant.

const T = 1_700_000_000_000

function stored(change: Partial<Alarm>): Alarm {
  return {
    id: 7,
    entityId: 1,
    type: 'level_low',
    severity: 'major',
    text: 'Level low',
    status: 'active',
    count: 1,
    firstTime: T,
    lastTime: T,
    payload: {},
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: null,
    clearedBy: null,
    shelvedUntil: null,
    shelvedBy: null,
    shelveReason: null,
    comments: [],
    firstOut: false,
    occurrences: [T],
    ...change,
  }
}

const audited = (action: string, time: number, before: unknown, after: unknown): AuditEntry => ({
  id: time,
  time,
  actor: action === 'alarm.shelf-expired' ? 'edgetwin' : 'ui',
  action,
  entity: 'device/tank//',
  target: 'alarm/7/level_low',
  before,
  after,
})

describe('alarmHistory', () => {
  it('numbers the first and last raise of an alarm stored before raise times were kept', () => {
    const alarm = stored({ count: 4, lastTime: T + 9000, occurrences: [] })
    expect(alarmHistory(alarm, [])).toEqual([
      { kind: 'raised', time: T, occurrence: 1 },
      { kind: 'raised', time: T + 9000, occurrence: 4 },
    ])
  })

  it('starts with the inherited shelf when the first audited shelf step ends it', () => {
    const alarm = stored({})
    const ended = audited('alarm.unshelve', T + 5000, { shelvedUntil: T + 60_000, reason: 'cleaning' }, null)
    expect(alarmHistory(alarm, [ended])).toEqual([
      { kind: 'raised', time: T, occurrence: 1 },
      { kind: 'shelved', time: T, by: null, until: T + 60_000, reason: 'cleaning' },
      { kind: 'unshelved', time: T + 5000, by: 'ui' },
    ])
  })

  it('keeps the order of a life for steps at the same instant', () => {
    const alarm = stored({
      status: 'cleared',
      acknowledgedAt: T,
      acknowledgedBy: 'ui',
      clearedAt: T,
      clearedBy: 'ui',
      comments: [{ time: T, author: 'ui', text: 'done' }],
    })
    const shelf = audited('alarm.shelve', T, null, { shelvedUntil: T + 300_000, reason: 'x' })
    expect(alarmHistory(alarm, [shelf]).map((s) => s.kind)).toEqual([
      'raised',
      'acknowledged',
      'shelved',
      'comment',
      'cleared',
    ])
  })
})
