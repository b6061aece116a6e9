import type { Database, Statement } from 'better-sqlite3'
import type { SeriesSettings } from '../api/types'
import type { BatchWriter } from '../store/writer'

export type { SeriesSettings }

/** Who wrote a series' settings: a person (through the API), or the built-in simulation's defaults. */
export type SettingsSource = 'user' | 'default'

export interface SeriesRef {
  /** Topic id of the series' entity. */
  entity: string
  type: string
  name: string
}

/** Series with settings at most: one per series of a large plant, and a bound on what a client can store. */
export const MAX_SERIES_SETTINGS = 10_000
const MAX_TEXT = 80
const MAX_UNIT = 20
/** A week: a slower series is not judged by its age. */
const MAX_PERIOD_S = 7 * 86_400
/** The ingest keeps receive times to the millisecond; a faster period means nothing. */
const MIN_PERIOD_S = 0.001

const key = ({ entity, type, name }: SeriesRef) => `${entity}\0${type}\0${name}`

/** Why a settings object cannot be stored, or undefined when it can (the schema checked the types). */
export function settingsError(s: SeriesSettings): string | undefined {
  // JSON.parse reads 1e999 as Infinity, which JSON cannot store back.
  const numbers = [s.range?.min, s.range?.max, ...Object.values(s.limits ?? {}), s.setpoint, s.expectedPeriod]
  if (numbers.some((n) => n !== undefined && !Number.isFinite(n))) return 'numbers must be finite'
  if (s.displayName !== undefined && (!s.displayName.trim() || s.displayName.length > MAX_TEXT))
    return `"displayName" must be 1 to ${MAX_TEXT} characters`
  if (s.unit !== undefined && s.unit.length > MAX_UNIT) return `"unit" must be at most ${MAX_UNIT} characters`
  if (s.range && !(s.range.min < s.range.max)) return '"range.min" must be below "range.max"'
  const { lowLow, low, high, highHigh } = s.limits ?? {}
  const order: Array<[string, number | undefined]> = [
    ['lowLow', lowLow],
    ['low', low],
    ['high', high],
    ['highHigh', highHigh],
  ]
  const set = order.filter((entry): entry is [string, number] => entry[1] !== undefined)
  for (let i = 1; i < set.length; i++) {
    const [lowerName, lower] = set[i - 1] as [string, number]
    const [upperName, upper] = set[i] as [string, number]
    // A low limit may equal the low-low one (one alarm, two severities), but low and high may not meet.
    const strict = lowerName.startsWith('low') && upperName.startsWith('high')
    if (strict ? !(lower < upper) : !(lower <= upper))
      return `limits must be in order lowLow ≤ low < high ≤ highHigh ("${lowerName}" ${lower} is above "${upperName}" ${upper})`
  }
  const period = s.expectedPeriod
  if (period !== undefined && (period < MIN_PERIOD_S || period > MAX_PERIOD_S))
    return `"expectedPeriod" must be between ${MIN_PERIOD_S} and ${MAX_PERIOD_S} seconds`
  return undefined
}

/** The settings without empty parts, so "nothing set" is stored as no row rather than `{}`. */
function compact(s: SeriesSettings): SeriesSettings {
  const out: SeriesSettings = {}
  if (s.displayName !== undefined) out.displayName = s.displayName.trim()
  if (s.unit !== undefined && s.unit !== '') out.unit = s.unit
  if (s.range) out.range = { min: s.range.min, max: s.range.max }
  const limits = Object.fromEntries(Object.entries(s.limits ?? {}).filter(([, v]) => v !== undefined))
  if (Object.keys(limits).length) out.limits = limits
  if (s.setpoint !== undefined) out.setpoint = s.setpoint
  if (s.expectedPeriod !== undefined) out.expectedPeriod = s.expectedPeriod
  return out
}

/**
 * Per series display settings: name, unit, range, limits, setpoint and expected period. Read from
 * memory; written through the batch writer like the rest of the twin.
 */
export class SeriesSettingsStore {
  private readonly rows = new Map<string, { settings: SeriesSettings; source: SettingsSource }>()
  private statements!: Record<'upsert' | 'remove', Statement>

  constructor(
    private readonly db: Database,
    private readonly writer: BatchWriter,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.statements = {
      upsert: this.db.prepare(`INSERT INTO series_settings (entity, type, name, value, source, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity, type, name) DO UPDATE SET value = excluded.value,
        source = excluded.source, updated_at = excluded.updated_at`),
      remove: this.db.prepare('DELETE FROM series_settings WHERE entity = ? AND type = ? AND name = ?'),
    }
    const rows = this.db
      .prepare('SELECT entity, type, name, value, source FROM series_settings')
      .all() as Array<SeriesRef & { value: string; source: SettingsSource }>
    for (const row of rows) this.rows.set(key(row), { settings: JSON.parse(row.value), source: row.source })
  }

  stop(): void {
    this.rows.clear()
  }

  get(ref: SeriesRef): SeriesSettings | undefined {
    return this.rows.get(key(ref))?.settings
  }

  /** Seconds between values the series' settings expect, when a person (or the simulation) set them. */
  expectedPeriod(ref: SeriesRef): number | undefined {
    return this.get(ref)?.expectedPeriod
  }

  /**
   * Replaces the settings of a series (validated by the caller with settingsError); an empty object
   * removes them. Throws a RangeError when a new series would pass the bound.
   */
  put(ref: SeriesRef, settings: SeriesSettings, source: SettingsSource = 'user'): SeriesSettings | undefined {
    const value = compact(settings)
    if (Object.keys(value).length === 0) {
      this.remove(ref)
      return undefined
    }
    const k = key(ref)
    if (!this.rows.has(k) && this.rows.size >= MAX_SERIES_SETTINGS)
      throw new RangeError(`at most ${MAX_SERIES_SETTINGS} series can have settings; remove some first`)
    this.rows.set(k, { settings: value, source })
    const json = JSON.stringify(value)
    const time = this.now()
    this.writer.write(() => this.statements.upsert.run(ref.entity, ref.type, ref.name, json, source, time))
    return value
  }

  remove(ref: SeriesRef): boolean {
    if (!this.rows.delete(key(ref))) return false
    this.writer.write(() => this.statements.remove.run(ref.entity, ref.type, ref.name))
    return true
  }

  /**
   * Defaults a connector knows for its own series (the built-in simulation's alarm limits): written
   * only where the series has no settings yet, so a person's settings are never replaced.
   */
  seed(defaults: ReadonlyArray<SeriesRef & { settings: SeriesSettings }>): number {
    let written = 0
    for (const { settings, ...ref } of defaults) {
      if (this.rows.has(key(ref)) || settingsError(settings)) continue
      this.put(ref, settings, 'default')
      written++
    }
    return written
  }
}
