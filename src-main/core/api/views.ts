import type { CoreParts } from '../app'
import type { AlarmActionDeps } from '../telemetry/alarm-actions'
import type { Alarm } from '../telemetry/alarm-store'
import type { StoredEvent } from '../telemetry/event-store'
import type { Entity } from '../twin/entity-store'
import type { AlarmView, EntityDetail, EntitySummary, EventView } from './types'

type Parts = Pick<CoreParts, 'entities' | 'series' | 'alarms'>

/** A person's name for an entity: its `name` twin fragment, else the registration's, else its id. */
export function displayName(parts: Parts, entity: Entity): string {
  const twinName = parts.entities.twin(entity.topicId)?.get('name')?.value
  if (typeof twinName === 'string' && twinName) return twinName
  const name = entity.registration.name
  if (typeof name === 'string' && name) return name
  return entity.topicId.split('/').filter(Boolean).pop() ?? entity.topicId
}

export function entitySummary(parts: Parts, entity: Entity): EntitySummary {
  const health = parts.entities.effectiveHealth(entity.topicId)
  const alarms = { critical: 0, major: 0, minor: 0, warning: 0 }
  // A shelved alarm is set aside on purpose: it does not count as waiting for someone.
  for (const alarm of parts.alarms.openOf(entity.id))
    if (alarm.status === 'active' && alarm.shelvedUntil === null) alarms[alarm.severity]++
  return {
    id: entity.topicId,
    type: entity.type,
    parent: entity.parent ?? null,
    externalId: entity.externalId ?? null,
    name: displayName(parts, entity),
    health: health ? { status: health.status, updatedAt: health.updatedAt, source: health.source } : null,
    lastSeen: entity.lastSeen ?? null,
    activeAlarms: alarms,
  }
}

export function entityDetail(parts: Parts & Pick<CoreParts, 'seriesSettings'>, entity: Entity): EntityDetail {
  const { entities, series } = parts
  const id = entity.topicId
  return {
    ...entitySummary(parts, entity),
    registration: entity.registration,
    autoRegistered: entity.autoRegistered,
    registeredAt: entity.registeredAt,
    healthEndpoint: entity.healthEndpoint ?? null,
    twin: Object.fromEntries(entities.twin(id) ?? []),
    config: entities.config(id) ?? null,
    capabilities: Object.fromEntries(entities.capabilities(id) ?? []),
    children: entities.children(id).map((child) => child.topicId),
    series: series.ofEntity(entity.id).map((s) => ({
      id: s.id,
      type: s.type,
      name: s.name,
      unit: entities.unit(id, s.type, s.name) ?? null,
      lastTime: s.lastTime ?? null,
      lastValue: s.lastValue ?? null,
      settings: parts.seriesSettings.get({ entity: id, type: s.type, name: s.name }) ?? null,
    })),
  }
}

export function alarmView(
  parts: Pick<CoreParts, 'entities'>,
  alarm: Alarm,
  entity = entityTopic(parts, alarm.entityId),
): AlarmView {
  const { entityId: _, ...rest } = alarm
  return { ...rest, entity }
}

/** What acknowledging, clearing, shelving or commenting an alarm needs from the core. */
export function alarmActionDeps(parts: CoreParts): AlarmActionDeps {
  return parts.alarmActions
}

export function eventView(parts: Pick<CoreParts, 'entities'>, event: StoredEvent): EventView {
  const { entityId, ...rest } = event
  return { ...rest, entity: entityTopic(parts, entityId) }
}

function entityTopic(parts: Pick<CoreParts, 'entities'>, entityId: number): string {
  return parts.entities.byId(entityId)?.topicId ?? `#${entityId}`
}
