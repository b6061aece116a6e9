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
}

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
