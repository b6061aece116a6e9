// How a chart's series are named, coloured and scaled: one y axis per unit, fixed or automatic
// ranges from the series' settings, and the limit and setpoint lines drawn across the plot.
import type { SeriesSettings, SeriesView } from './api'
import { seriesName, seriesUnit } from './format'

/**
 * Okabe & Ito's palette, told apart with the common colour-vision deficiencies. On white the pale
 * members (yellow, sky blue, orange) fall under 3:1, so the light theme darkens them; the dark
 * theme uses them as they are and lightens the dark blue instead.
 */
const PALETTE = {
  light: ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#a86f00', '#2e86c1', '#1b1b1b', '#7a6a00'],
  dark: ['#56b4e9', '#e69f00', '#2fc497', '#f0e442', '#e08fbc', '#ff7a33', '#e8edf1', '#6fa8ff'],
} as const

/** Series beyond the palette's length repeat its colours dashed, so no two series look alike. */
export function seriesColor(index: number, dark: boolean): string {
  const colours = dark ? PALETTE.dark : PALETTE.light
  return colours[index % colours.length] as string
}

export function seriesDash(index: number): number[] | undefined {
  return index >= PALETTE.light.length ? [8, 4] : undefined
}

/** `#rrggbb` with an alpha, for bands and fills. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')
  return `${hex}${a}`
}

export type ChartSeries = Pick<SeriesView, 'id' | 'type' | 'name' | 'unit'> & {
  /** The series' entity, to match live measurements. */
  entity: string
  settings?: SeriesSettings | null
}

/** The series' name and unit as a person reads them: "Fill pressure [bar]". */
export function seriesLabel(s: ChartSeries): string {
  const unit = seriesUnit(s)
  return unit ? `${seriesName(s)} [${unit}]` : seriesName(s)
}

export const scaleOf = (unit: string | null) => `unit:${unit ?? ''}`

/** The units of the series, first seen first: each gets a scale and an axis. */
export function unitsOf(series: ChartSeries[]): string[] {
  return [...new Set(series.map((s) => seriesUnit(s) ?? ''))]
}

export interface AxisPlan {
  unit: string
  scale: string
  /** uPlot sides: 3 left, 1 right. */
  side: 1 | 3
  /** The axis' label: the series' name and unit when it has one series, else the unit alone. */
  label: string
  /** The series' colour when the axis has one series; undefined: the neutral text colour. */
  color: string | undefined
  /** A fixed range when a series of the unit has one (the union when several do). */
  range: { min: number; max: number } | undefined
  /** Limits and setpoints of the axis' series: an automatic range keeps them in view. */
  guides: number[]
  /** Drawn; on a narrow chart only the first two units get an axis (the legend names the rest's unit). */
  show: boolean
}

/** Charts narrower than this (a phone) get compact axes, at most two. */
export const COMPACT_WIDTH = 600

/** One axis per unit, alternating left and right, coloured like its series when it has only one. */
export function planAxes(series: ChartSeries[], dark: boolean, width = Number.POSITIVE_INFINITY): AxisPlan[] {
  const compact = width < COMPACT_WIDTH
  return unitsOf(series).map((unit, i) => {
    const members = series.filter((s) => (seriesUnit(s) ?? '') === unit)
    const only = members.length === 1 ? (members[0] as ChartSeries) : undefined
    const ranges = members.flatMap((s) => (s.settings?.range ? [s.settings.range] : []))
    const range = ranges.length
      ? { min: Math.min(...ranges.map((r) => r.min)), max: Math.max(...ranges.map((r) => r.max)) }
      : undefined
    return {
      unit,
      scale: scaleOf(unit),
      side: i % 2 === 0 ? 3 : 1,
      label: only ? (unit ? `${seriesName(only)} [${unit}]` : seriesName(only)) : unit || 'no unit',
      color: only ? seriesColor(series.indexOf(only), dark) : undefined,
      range,
      guides: members.flatMap((s) => guidesOf(s).map((g) => g.value)),
      show: !compact || i < 2,
    }
  })
}

export type GuideKind = 'lowLow' | 'low' | 'high' | 'highHigh' | 'setpoint'

export interface Guide {
  kind: GuideKind
  value: number
  /** Index of the series in the chart, for its colour and scale. */
  series: number
  /** Short text drawn at the line's end: "H 90", "SP 120". */
  tag: string
}

const TAGS: Record<GuideKind, string> = { lowLow: 'LL', low: 'L', high: 'H', highHigh: 'HH', setpoint: 'SP' }
/** Dashes tell limit kinds apart without colour: long for the first limit, short for the second. */
export const GUIDE_DASH: Record<GuideKind, number[]> = {
  low: [10, 5],
  high: [10, 5],
  lowLow: [3, 3],
  highHigh: [3, 3],
  setpoint: [],
}

/** A series' limits and setpoint as lines across the plot. */
export function guidesOf(s: ChartSeries, index = 0): Guide[] {
  const guides: Guide[] = []
  const limits = s.settings?.limits ?? {}
  for (const kind of ['lowLow', 'low', 'high', 'highHigh'] as const) {
    const value = limits[kind]
    if (value !== undefined) guides.push({ kind, value, series: index, tag: `${TAGS[kind]} ${value}` })
  }
  const setpoint = s.settings?.setpoint
  if (setpoint !== undefined)
    guides.push({ kind: 'setpoint', value: setpoint, series: index, tag: `SP ${setpoint}` })
  return guides
}

/**
 * The y range of an axis: its fixed range, else the values' own range widened to keep the
 * series' limits and setpoints in view (a value's distance to its limit is what an operator reads).
 */
export function axisRange(plan: AxisPlan, dataMin: number | null, dataMax: number | null): [number, number] {
  if (plan.range) return [plan.range.min, plan.range.max]
  const values = [dataMin, dataMax, ...plan.guides].filter(
    (v): v is number => v !== null && Number.isFinite(v),
  )
  if (values.length === 0) return [0, 1]
  let min = Math.min(...values)
  let max = Math.max(...values)
  // A flat line sits in the middle of a band one unit tall (or a tenth of its value) rather than on an edge.
  const pad = max === min ? Math.max(Math.abs(max) * 0.1, 1) : (max - min) * 0.05
  min -= pad
  max += pad
  return [min, max]
}
