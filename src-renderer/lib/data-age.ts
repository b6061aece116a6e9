// How old a value is and what that means on screen: the core says how old a series' value may get
// (its `staleAfter`, a few expected periods), the UI's shared clock says how old it is now.
import type { HealthStatus, SeriesView } from './api'
import { formatAgo } from './format'

/** Whether a value stamped `time` is stale `now`: older than its series allows, or its entity is silent. */
export function isStale(
  time: number | null | undefined,
  staleAfter: number | null | undefined,
  now: number,
  entityHealth?: string | null,
): boolean {
  if (entityHealth === 'stale') return true
  return time != null && staleAfter != null && now - time > staleAfter
}

/** The latest time of a series: what the stream brought, else what the snapshot said. */
export function latestTime(series: SeriesView, live: { time: number } | undefined): number | null {
  return live?.time ?? series.lastTime
}

/** "5 min ago": the age of a value, for a stale one. */
export const ageText = (time: number | null | undefined, now: number) => formatAgo(time, now)

/** The health as one of the four shown states; a status the UI does not know reads as unknown. */
export function healthKind(status: string | null | undefined): HealthStatus {
  return status === 'up' || status === 'down' || status === 'stale' ? status : 'unknown'
}

/** Health in the operator's words: communication lost is not down (the device may be fine). */
export const HEALTH_WORDS: Record<HealthStatus, string> = {
  up: 'up',
  down: 'down',
  stale: 'communication lost',
  unknown: 'unknown',
}

/** The words for a health status; an unknown status is shown as reported. */
export function healthWords(status: string | null | undefined): string {
  const kind = healthKind(status)
  return kind === 'unknown' && status ? status : HEALTH_WORDS[kind]
}

/** A health reason without the words the status already says: "no new values (expected every 1 s)". */
export function reasonBeyond(
  status: string | null | undefined,
  reason: string | null | undefined,
): string | null {
  if (!reason || reason === `reported ${status}`) return null
  const words = `${healthWords(status)}: `
  return reason.startsWith(words) ? reason.slice(words.length) : reason
}
