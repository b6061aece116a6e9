import type { CoreParts } from '../app'
import { deriveHealth } from '../health/derived-health'
import type { AlarmActionDeps } from '../telemetry/alarm-actions'
import { alarmHistory, shelfActions } from '../telemetry/alarm-history'
import type { Alarm } from '../telemetry/alarm-store'
import type { StoredEvent } from '../telemetry/event-store'
import { staleAfter } from '../telemetry/series-period'
import type { Series } from '../telemetry/series-store'
import type { Entity } from '../twin/entity-store'
import type { AlarmDetailView, AlarmView, EntityDetail, EntitySummary, EventView, SeriesView } from './types'

type Parts = Pick<CoreParts, 'entities' | 'series' | 'seriesSettings' | 'alarms'>

/** A person's name for an entity: its `name` twin fragment, else the registration's, else its id. */
export function displayName(parts: Parts, entity: Entity): string {
  const twinName = parts.entities.twin(entity.topicId)?.get('name')?.value
  if (typeof twinName === 'string' && twinName) return twinName
  const name = entity.registration.name
  if (typeof name === 'string' && name) return name
  return entity.topicId.split('/').filter(Boolean).pop() ?? entity.topicId
}

export function entitySummary(parts: Parts, entity: Entity, now = Date.now()): EntitySummary {
  const health = deriveHealth(parts, entity.topicId, now)
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
    health: health
      ? {
          status: health.status,
          reported: health.reported,
          reason: health.reason,
          updatedAt: health.updatedAt,
          source: health.source,
        }
      : null,
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
    series: series.ofEntity(entity.id).map((s) => seriesView(parts, s, id)),
  }
}

/** A series with its latest value, that value's age limit and whether it is past it (series-period.ts). */
export function seriesView(
  parts: Parts,
  s: Series,
  entity: string | undefined,
  now = Date.now(),
): SeriesView {
  const expected = parts.series.expectedPeriod(s)
  const limit = expected ? staleAfter(expected.period) : null
  return {
    id: s.id,
    type: s.type,
    name: s.name,
    unit: entity ? (parts.entities.unit(entity, s.type, s.name) ?? null) : null,
    lastTime: s.lastTime ?? null,
    lastValue: s.lastValue ?? null,
    expectedPeriod: expected?.period ?? null,
    periodSource: expected?.source ?? null,
    staleAfter: limit,
    stale: limit !== null && s.lastTime !== undefined && now - s.lastTime > limit,
    settings: entity ? (parts.seriesSettings.get({ entity, type: s.type, name: s.name }) ?? null) : null,
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

/** One alarm with its history: its own record, and the shelves its audit entries tell of. */
export function alarmDetailView(parts: Pick<CoreParts, 'entities' | 'audit'>, alarm: Alarm): AlarmDetailView {
  const view = alarmView(parts, alarm)
  return { ...view, history: alarmHistory(alarm, shelfActions(parts.audit, alarm, view.entity)) }
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
