// How a device card lays out its series: a few key values large, sibling values (a group such as
// `valves.v1`…`valves.v6`, thin-edge.io's one level of grouping) always all side by side, and the
// rest behind "+N more" on the card itself, so no series is left out.
import type { SeriesView } from './api'

export interface SiblingGroup {
  /** The group's name: the part of the series names before the dot ("valves"). */
  name: string
  series: SeriesView[]
}

export interface CardSeries {
  key: SeriesView[]
  groups: SiblingGroup[]
  more: SeriesView[]
}

const groupOf = (series: SeriesView) => {
  const dot = series.name.indexOf('.')
  return dot > 0 ? `${series.type}\u0000${series.name.slice(0, dot)}` : undefined
}

/** Splits a device's series, in the order the core lists them, into key values, groups and the rest. */
export function cardSeries(all: readonly SeriesView[], keyCount: number): CardSeries {
  const grouped = new Map<string, SeriesView[]>()
  for (const series of all) {
    const group = groupOf(series)
    if (group !== undefined) grouped.set(group, [...(grouped.get(group) ?? []), series])
  }
  const groups: SiblingGroup[] = []
  const single: SeriesView[] = []
  for (const series of all) {
    const group = groupOf(series)
    const members = group === undefined ? undefined : grouped.get(group)
    // A lone dotted name is an ordinary value.
    if (!members || members.length < 2) single.push(series)
    else if (members[0] === series)
      groups.push({ name: series.name.slice(0, series.name.indexOf('.')), series: members })
  }
  return { key: single.slice(0, keyCount), groups, more: single.slice(keyCount) }
}
