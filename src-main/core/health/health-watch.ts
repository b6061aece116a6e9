import { type DerivedHealth, deriveHealth, type HealthDeps, type HealthStatus } from './derived-health'

/**
 * Finds the health changes no message announces: a silence growing past its limit (communication
 * lost), or a `down` superseded by the data that keeps arriving. Each scan derives every entity's
 * health and returns those whose status moved since the previous scan; the first scan only records.
 */
export class HealthWatch {
  private last: Map<string, HealthStatus> | undefined

  constructor(private readonly deps: HealthDeps) {}

  scan(now: number): Array<{ entity: string; status: HealthStatus }> {
    const current = new Map<string, HealthStatus>()
    const changed: Array<{ entity: string; status: HealthStatus }> = []
    for (const entity of this.deps.entities.all()) {
      const status = statusOf(deriveHealth(this.deps, entity.topicId, now))
      current.set(entity.topicId, status)
      // An entity new since the last scan has been shown as unknown, or by its own health change.
      const before = this.last?.get(entity.topicId) ?? 'unknown'
      if (this.last && before !== status) changed.push({ entity: entity.topicId, status })
    }
    this.last = current
    return changed
  }

  /** A status sent by other means (a reported health change): the next scan compares with it. */
  note(entity: string, status: HealthStatus): void {
    this.last?.set(entity, status)
  }
}

/** No health at all reads as unknown on the stream. */
export function statusOf(health: DerivedHealth | undefined): HealthStatus {
  return health?.status ?? 'unknown'
}
