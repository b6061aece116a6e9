// Siblings: the members of one measurement group, such as the six valves of a valve bank
// (`{"valves":{"v1":…,"v6":…}}` on `m/valves` gives series valves.v1 … valves.v6). Their values
// compare with each other, so they read better side by side as bars than as crossing lines.
import type { ChartSeries } from './chart-axes'
import { formatLabel, seriesUnit } from './format'

/** Bars for fewer would not be a comparison; for more they get too thin to read. */
const MIN_SIBLINGS = 3
const MAX_SIBLINGS = 24

const groupOf = (name: string) => name.slice(0, name.lastIndexOf('.'))

/** The group the series all belong to (same entity, type, group and unit), or undefined. */
export function siblingGroup(series: ChartSeries[]): string | undefined {
  if (series.length < MIN_SIBLINGS || series.length > MAX_SIBLINGS) return undefined
  const [first] = series as [ChartSeries]
  const group = groupOf(first.name)
  if (!group) return undefined
  const alike = (s: ChartSeries) =>
    s.entity === first.entity &&
    s.type === first.type &&
    groupOf(s.name) === group &&
    seriesUnit(s) === seriesUnit(first)
  return series.every(alike) ? group : undefined
}

/** A member's own name within its group, as a bar's label: "valves.v1" → "V1". */
export function memberName(s: ChartSeries): string {
  return s.settings?.displayName || formatLabel(s.name.slice(s.name.lastIndexOf('.') + 1))
}
