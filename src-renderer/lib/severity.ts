// Alarm severities in order of urgency, as thin-edge.io defines them (critical first).
import type { AlarmView, Severity } from './api'

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning']

/** 0 for critical … 3 for warning: lower is more urgent. */
export const severityRank = (severity: Severity) => SEVERITIES.indexOf(severity)

/** The more urgent of two severities; `undefined` counts as none. */
export function worse(a: Severity | undefined, b: Severity): Severity {
  return a !== undefined && severityRank(a) <= severityRank(b) ? a : b
}

/**
 * Waiting for someone: active (not acknowledged) and not shelved. A shelved alarm was set aside on
 * purpose, so it leaves the unacknowledged counts, the flashing and the horn until its shelf ends.
 */
export const waiting = (alarm: AlarmView) => alarm.status === 'active' && alarm.shelvedUntil === null

/** Most urgent first, then the most recent. */
export function byUrgency(a: AlarmView, b: AlarmView): number {
  return severityRank(a.severity) - severityRank(b.severity) || b.lastTime - a.lastTime
}

export interface AlarmCount {
  /** Active and acknowledged. */
  open: number
  /** Active and not shelved: nobody has acknowledged them yet (see `waiting`). */
  unacknowledged: number
}

/** Open alarms counted by severity. */
export function countOpen(alarms: readonly AlarmView[]): Record<Severity, AlarmCount> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, { open: 0, unacknowledged: 0 }])) as Record<
    Severity,
    AlarmCount
  >
  for (const alarm of alarms) {
    if (alarm.status === 'cleared') continue
    counts[alarm.severity].open++
    if (waiting(alarm)) counts[alarm.severity].unacknowledged++
  }
  return counts
}

/** Unacknowledged alarms are filled with their severity's colour; acknowledged ones only outlined. */
export const severityClass = (severity: Severity, unacknowledged: boolean) =>
  unacknowledged ? `severity-${severity}` : `outline-${severity}`

/** "2 open alarms, worst critical, 1 unacknowledged" */
export function alarmsText(badge: { count: number; worst: Severity; unacknowledged: number }): string {
  const open = `${badge.count} open alarm${badge.count === 1 ? '' : 's'}, worst ${badge.worst}`
  if (badge.unacknowledged === 0) return `${open}, acknowledged`
  return badge.unacknowledged === badge.count ? open : `${open}, ${badge.unacknowledged} unacknowledged`
}
