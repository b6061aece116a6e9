import { staleAfter } from '../telemetry/series-period'
import type { SeriesStore } from '../telemetry/series-store'
import type { Entity, EntityStore, HealthState } from '../twin/entity-store'

/**
 * What EdgeTwin takes an entity's health to be, from what it says (`status/health`, reference §2.7)
 * and from what it does (the messages it keeps sending):
 * - `up`: reported up, or reported down and superseded by later messages, or sending data;
 * - `down`: reported down (a Last Will, or the service itself) and nothing heard since;
 * - `stale`: communication lost: it was sending values regularly and all of them are overdue;
 * - `unknown`: a status other than up/down was reported.
 * Nothing reported and nothing received: no health at all (undefined).
 */
export type HealthStatus = 'up' | 'down' | 'stale' | 'unknown'

/** Where the reported part comes from. */
export type HealthSource = 'own' | 'endpoint' | 'services' | 'data'

export interface DerivedHealth {
  status: HealthStatus
  /** The reported status it rests on (`up`, `down`, …), null when derived from data alone. */
  reported: string | null
  /** Why, in plain words. */
  reason: string
  /** When the reported status was received, else the latest message. Epoch ms. */
  updatedAt: number
  source: HealthSource
}

/**
 * A message received this soon after a `down` (ms) does not supersede it: it may have been in flight
 * when the process went, while the broker was publishing its Last Will.
 */
export const SUPERSEDE_GRACE_MS = 1000

/** A device with no health report and no regular series counts as up while its last message is younger than this. */
export const DATA_HEALTH_MS = 2 * 60_000

export interface HealthDeps {
  entities: EntityStore
  series: SeriesStore
}

/**
 * Derives the health of one entity (see HealthStatus). A service rests on its own report; a device
 * on its `@health` endpoint's (default its `tedge-agent` service, reference §1.4), else its own
 * report, else the worst of its services', else on its data alone.
 */
export function deriveHealth(deps: HealthDeps, topicId: string, now: number): DerivedHealth | undefined {
  const { entities } = deps
  const entity = entities.get(topicId)
  if (!entity) return undefined
  if (entity.type === 'service') {
    const own = entities.health(topicId)
    return own && judge(deps, entity, own, 'own', [entity], now)
  }
  const endpointId = endpointOf(entity)
  const endpoint = endpointId ? entities.get(endpointId) : undefined
  const endpointHealth = endpoint && entities.health(endpoint.topicId)
  if (endpoint && endpointHealth)
    return judge(deps, entity, endpointHealth, 'endpoint', [entity, endpoint], now)
  const own = entities.health(topicId)
  if (own) return judge(deps, entity, own, 'own', [entity], now)
  const services = entities
    .children(topicId)
    .flatMap((child) => (child.type === 'service' && deriveHealth(deps, child.topicId, now)) || [])
  if (services.length > 0) {
    const down = services.find((h) => h.status === 'down')
    const worst = down ?? services.find((h) => h.status !== 'up')
    const latest = Math.max(...services.map((h) => h.updatedAt))
    const base: HealthState = {
      status: down ? 'down' : 'up',
      payload: null,
      updatedAt: down?.updatedAt ?? latest,
    }
    const judged = judge(deps, entity, base, 'services', [entity], now)
    if (judged.status === 'down') judged.reason = 'one of its services reported down'
    else if (judged.status === 'up' && worst && worst.status !== 'up')
      judged.reason = `its services are up or ${worst.status}`
    return judged
  }
  return fromData(deps, entity, now)
}

/** The device's health endpoint: `@health`, else its `tedge-agent` service in the default scheme. */
function endpointOf(entity: Entity): string | undefined {
  if (entity.healthEndpoint) return entity.healthEndpoint
  const [scheme, device] = entity.topicId.split('/')
  return scheme === 'device' ? `device/${device}/service/tedge-agent` : undefined
}

/**
 * A reported status, checked against what the entities it speaks for have done since: a `down`
 * followed by their messages is superseded (the process that left the Last Will has gone, another
 * one is sending), and an `up` with all regular series overdue is communication lost.
 */
function judge(
  deps: HealthDeps,
  entity: Entity,
  reported: HealthState,
  source: HealthSource,
  speakers: Entity[],
  now: number,
): DerivedHealth {
  const base = { reported: reported.status, updatedAt: reported.updatedAt, source }
  if (reported.status === 'down') {
    const heard = Math.max(...speakers.map((e) => e.lastSeen ?? 0))
    if (heard <= reported.updatedAt + SUPERSEDE_GRACE_MS)
      return { ...base, status: 'down', reason: 'reported down' }
    const lost = communicationLost(deps, entity, now)
    if (lost) return { ...base, status: 'stale', reason: `reported down, ${lost}` }
    return { ...base, status: 'up', reason: 'reported down, but it has sent data since' }
  }
  if (reported.status !== 'up') {
    return { ...base, status: 'unknown', reason: `reported "${reported.status}"` }
  }
  const lost = communicationLost(deps, entity, now)
  if (lost) return { ...base, status: 'stale', reason: `reported up, but ${lost}` }
  return { ...base, status: 'up', reason: 'reported up' }
}

/** No report at all: up while it sends, stale once it stops. */
function fromData(deps: HealthDeps, entity: Entity, now: number): DerivedHealth | undefined {
  if (entity.lastSeen === undefined) return undefined
  const base = { reported: null, updatedAt: entity.lastSeen, source: 'data' as const }
  const lost = communicationLost(deps, entity, now)
  if (lost) return { ...base, status: 'stale', reason: lost }
  if (hasRegularSeries(deps, entity, now) || now - entity.lastSeen <= DATA_HEALTH_MS)
    return { ...base, status: 'up', reason: 'sending data' }
  return { ...base, status: 'stale', reason: 'communication lost: nothing received for over 2 min' }
}

function hasRegularSeries(deps: HealthDeps, entity: Entity, now: number): boolean {
  return deps.series.ofEntity(entity.id).some((s) => {
    const expected = deps.series.expectedPeriod(s)
    return (
      expected !== undefined && s.lastTime !== undefined && now - s.lastTime <= staleAfter(expected.period)
    )
  })
}

/**
 * Communication lost, in words, when the entity has series with an expected period and every one
 * of them is overdue; else undefined (a series without a period says nothing about silence).
 */
export function communicationLost(deps: HealthDeps, entity: Entity, now: number): string | undefined {
  let regular = 0
  let fastest = Number.POSITIVE_INFINITY
  for (const s of deps.series.ofEntity(entity.id)) {
    const expected = deps.series.expectedPeriod(s)
    if (!expected || s.lastTime === undefined) continue
    if (now - s.lastTime <= staleAfter(expected.period)) return undefined
    regular++
    fastest = Math.min(fastest, expected.period)
  }
  if (regular === 0) return undefined
  return `communication lost: no new values (expected every ${describePeriod(fastest)})`
}

/** "1 s", "250 ms", "5 min": the period as words for a reason text. */
function describePeriod(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`
  return `${Math.round(ms / 360_000) / 10} h`
}
