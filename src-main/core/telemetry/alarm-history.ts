import type { AlarmHistoryEntry } from '../api/types'
import type { AuditEntry, AuditQuery, AuditStore } from '../audit/audit-store'
import type { Alarm } from './alarm-store'

/**
 * Shelf actions read back per alarm, the latest: a nuisance alarm may be shelved again and again,
 * and its history shows the recent ones, not an unbounded list.
 */
export const SHELF_HISTORY = 50

/** The audited actions that set or end a shelf; the alarm row keeps only the shelf now running. */
const SHELF_ACTIONS = ['alarm.shelve', 'alarm.unshelve', 'alarm.shelf-expired']

/** The audit entries of an alarm's shelves, oldest first (the row says who, when, until, why). */
export function shelfActions(audit: AuditStore, alarm: Alarm, entity: string): AuditEntry[] {
  const query: AuditQuery = {
    entity,
    target: `alarm/${alarm.id}/${alarm.type}`,
    actions: SHELF_ACTIONS,
    limit: SHELF_HISTORY,
  }
  return [...audit.query(query)].reverse()
}

/**
 * An alarm's life as one list, oldest first. The alarm keeps its raise times (the latest
 * OCCURRENCE_HISTORY besides the first), its acknowledgement, comments and clear; the audit trail
 * keeps every shelf that was set or ended (`shelves`, from shelfActions). A tie in time keeps the
 * order of the life: raised, acknowledged, shelf, comment, cleared.
 */
export function alarmHistory(alarm: Alarm, shelves: AuditEntry[]): AlarmHistoryEntry[] {
  const entries: AlarmHistoryEntry[] = [
    ...raises(alarm),
    ...(alarm.acknowledgedAt === null
      ? []
      : [{ kind: 'acknowledged' as const, time: alarm.acknowledgedAt, by: alarm.acknowledgedBy }]),
    ...shelfSteps(alarm, shelves),
    ...alarm.comments.map((c) => ({ kind: 'comment' as const, time: c.time, by: c.author, text: c.text })),
    ...(alarm.clearedAt === null
      ? []
      : [{ kind: 'cleared' as const, time: alarm.clearedAt, by: alarm.clearedBy }]),
  ]
  // Array.prototype.sort is stable: equal times keep the order above.
  return entries.sort((a, b) => a.time - b.time)
}

/**
 * Each raise kept, numbered: the first (firstTime), the latest ones (occurrences end with the
 * count-th raise) and the last (lastTime, also for an alarm stored before raise times were kept).
 */
function raises(alarm: Alarm): AlarmHistoryEntry[] {
  const times = new Map<number, number>([[1, alarm.firstTime]])
  const firstKept = alarm.count - alarm.occurrences.length + 1
  alarm.occurrences.forEach((time, i) => {
    times.set(firstKept + i, time)
  })
  times.set(alarm.count, alarm.lastTime)
  return [...times]
    .sort(([a], [b]) => a - b)
    .map(([occurrence, time]) => ({ kind: 'raised' as const, time, occurrence }))
}

function shelfSteps(alarm: Alarm, shelves: AuditEntry[]): AlarmHistoryEntry[] {
  const steps: AlarmHistoryEntry[] = []
  for (const entry of shelves) {
    if (entry.action === 'alarm.shelve') {
      const after = entry.after as { shelvedUntil: number; reason: string }
      steps.push({
        kind: 'shelved',
        time: entry.time,
        by: entry.actor,
        until: after.shelvedUntil,
        reason: after.reason,
      })
    } else if (entry.action === 'alarm.unshelve')
      steps.push({ kind: 'unshelved', time: entry.time, by: entry.actor })
    else steps.push({ kind: 'shelf-ended', time: entry.time })
  }
  // Raised while a shelf of the alarm before it still ran: that shelf was set on the earlier alarm.
  const first = shelves[0]
  const inherited =
    shelves.length < SHELF_HISTORY && (first ? first.action !== 'alarm.shelve' : alarm.shelvedUntil !== null)
  if (inherited) {
    const before = (first?.before ?? {}) as { shelvedUntil?: number; reason?: string }
    steps.unshift({
      kind: 'shelved',
      time: alarm.firstTime,
      by: first ? null : alarm.shelvedBy,
      until: before.shelvedUntil ?? alarm.shelvedUntil ?? alarm.firstTime,
      reason: before.reason ?? alarm.shelveReason ?? '',
    })
  }
  return steps
}
