import type { AuditStore } from '../audit/audit-store'
import type { Bus } from '../broker/bus'
import { formatTopic } from '../topics'
import type { Change } from '../twin/changes'
import type { EntityStore } from '../twin/entity-store'
import type { Alarm, AlarmStore } from './alarm-store'

export interface AlarmActionDeps {
  alarms: AlarmStore
  entities: EntityStore
  audit: AuditStore
  bus: Bus
  notify: (change: Change) => void
  topicRoot: string
  now: () => number
  /** A shelf was set or removed: the core re-arms the timer that ends shelves. */
  shelvesChanged?: () => void
}

/** Shelving is for a bounded time: long enough to work on a nuisance alarm, never for ever. */
export const SHELVE_MINUTES = { min: 5, max: 24 * 60 }
export const SHELVE_REASON_MAX = 200
export const COMMENT_MAX = 500
/** Comments kept per alarm: a conversation about one alarm, not a log. */
export const COMMENTS_PER_ALARM = 50
/** Who ends a shelf when its time is up. */
export const SHELF_TIMER_ACTOR = 'edgetwin'

/** Why an operator action does not apply to the alarm, if it does not. */
export function alarmActionError(alarm: Alarm, action: 'acknowledge' | 'clear'): string | undefined {
  if (action === 'acknowledge' && alarm.status !== 'active')
    return `alarm ${alarm.id} is ${alarm.status}, not active`
  if (action === 'clear' && alarm.status === 'cleared') return `alarm ${alarm.id} is already cleared`
  return undefined
}

/**
 * An operator (local or from the cloud) acknowledges or clears an open alarm: audited, announced,
 * and for a clear also published as the empty retained message that clears it on the bus
 * (reference §2.4). The caller has checked alarmActionError.
 */
export function applyAlarmAction(
  deps: AlarmActionDeps,
  alarm: Alarm,
  action: 'acknowledge' | 'clear',
  actor: string,
): Alarm {
  const entity = deps.entities.byId(alarm.entityId)
  const topicId = entity?.topicId ?? `#${alarm.entityId}`
  const now = deps.now()
  const updated =
    action === 'acknowledge'
      ? deps.alarms.acknowledge(alarm, now, actor)
      : (deps.alarms.clear(alarm.entityId, alarm.type, now, actor) ?? alarm)
  deps.audit.append({
    actor,
    action: `alarm.${action}`,
    entity: topicId,
    target: `alarm/${alarm.id}/${alarm.type}`,
    before: { status: alarm.status },
    after: { status: updated.status },
  })
  deps.notify({ kind: 'alarm', entity: topicId, alarm: updated })
  if (action === 'clear' && entity) {
    const topic = formatTopic(entity.topicId, { kind: 'alarm', type: alarm.type }, deps.topicRoot)
    void deps.bus.publish(topic, '', { retain: true, qos: 1 })
  }
  return updated
}

function auditAndNotify(
  deps: AlarmActionDeps,
  alarm: Alarm,
  updated: Alarm,
  audit: { actor: string; action: string; before: unknown; after: unknown },
): Alarm {
  const topicId = deps.entities.byId(alarm.entityId)?.topicId ?? `#${alarm.entityId}`
  deps.audit.append({ ...audit, entity: topicId, target: `alarm/${alarm.id}/${alarm.type}` })
  deps.notify({ kind: 'alarm', entity: topicId, alarm: updated })
  return updated
}

/** Why a shelf request is refused, with the HTTP status that says so. */
export function shelveError(alarm: Alarm, minutes: number, reason: string): [400 | 409, string] | undefined {
  if (!Number.isInteger(minutes) || minutes < SHELVE_MINUTES.min || minutes > SHELVE_MINUTES.max)
    return [
      400,
      `"minutes" must be a whole number from ${SHELVE_MINUTES.min} to ${SHELVE_MINUTES.max} (24 hours)`,
    ]
  if (reason.trim() === '') return [400, '"reason" must say why the alarm is shelved']
  if (reason.length > SHELVE_REASON_MAX)
    return [400, `"reason" must be at most ${SHELVE_REASON_MAX} characters`]
  if (alarm.status === 'cleared') return [409, `alarm ${alarm.id} is cleared: there is nothing to shelve`]
  return undefined
}

/**
 * Shelves an open alarm for `minutes`: it stays open and listed, but leaves the banner, the horn
 * and the unacknowledged counts until the shelf ends (its time is up, or someone unshelves it).
 * Shelving again replaces the shelf. The caller has checked shelveError.
 */
export function shelveAlarm(
  deps: AlarmActionDeps,
  alarm: Alarm,
  request: { minutes: number; reason: string },
  actor: string,
): Alarm {
  const until = deps.now() + request.minutes * 60_000
  const reason = request.reason.trim()
  const updated = deps.alarms.shelve(alarm, { until, by: actor, reason })
  deps.shelvesChanged?.()
  return auditAndNotify(deps, alarm, updated, {
    actor,
    action: 'alarm.shelve',
    before: { shelvedUntil: alarm.shelvedUntil },
    after: { shelvedUntil: until, reason },
  })
}

export function unshelveError(alarm: Alarm): string | undefined {
  return alarm.shelvedUntil === null ? `alarm ${alarm.id} is not shelved` : undefined
}

/** Ends a shelf: by an operator, or by the core (SHELF_TIMER_ACTOR) when its time is up. */
export function unshelveAlarm(deps: AlarmActionDeps, alarm: Alarm, actor: string): Alarm {
  const updated = deps.alarms.unshelve(alarm)
  deps.shelvesChanged?.()
  return auditAndNotify(deps, alarm, updated, {
    actor,
    action: actor === SHELF_TIMER_ACTOR ? 'alarm.shelf-expired' : 'alarm.unshelve',
    before: { shelvedUntil: alarm.shelvedUntil, reason: alarm.shelveReason },
    after: { shelvedUntil: null },
  })
}

export function commentError(alarm: Alarm, text: string): [400 | 409, string] | undefined {
  if (text.trim() === '') return [400, '"text" must not be empty']
  if (text.length > COMMENT_MAX) return [400, `"text" must be at most ${COMMENT_MAX} characters`]
  if (alarm.comments.length >= COMMENTS_PER_ALARM)
    return [409, `alarm ${alarm.id} has ${COMMENTS_PER_ALARM} comments, the most one alarm keeps`]
  return undefined
}

/** Adds an operator's comment to an alarm, open or cleared. The caller has checked commentError. */
export function commentAlarm(deps: AlarmActionDeps, alarm: Alarm, text: string, actor: string): Alarm {
  const comment = { time: deps.now(), author: actor, text: text.trim() }
  const updated = deps.alarms.comment(alarm, comment)
  return auditAndNotify(deps, alarm, updated, {
    actor,
    action: 'alarm.comment',
    before: null,
    after: { text: comment.text },
  })
}
