// Measurement charts as data: ranges, aligning series, axes by unit, uPlot options and CSV. Pure
// functions, so they test without a canvas; SeriesChart.svelte owns the uPlot instance.
import type uPlot from 'uplot'
import type { SeriesPointView } from './api'
import {
  axisRange,
  type ChartSeries,
  COMPACT_WIDTH,
  guidesOf,
  planAxes,
  seriesColor,
  seriesDash,
  seriesLabel,
  withAlpha,
} from './chart-axes'
import { type AlarmMarker, drawAlarmMarkers, drawGuides } from './chart-draw'
import { formatValue, seriesUnit } from './format'
import { seriesKey } from './twin.svelte'

export { type ChartSeries, scaleOf, seriesLabel, unitsOf } from './chart-axes'
export type { AlarmMarker } from './chart-draw'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** What the live range shows: the last five minutes, scrolling. */
export const LIVE_SPAN = 5 * MINUTE
/** Rows a live chart keeps: five minutes of 4 changes a second (the stream's rate) for 5 types. */
const LIVE_ROWS = 6000

/** With more series than this, lines are drawn 1 px wide. */
const MANY_SERIES = 8

export type RangeKey = 'live' | '1h' | '24h' | '7d' | '30d' | 'custom'

export const RANGES: ReadonlyArray<{ key: RangeKey; label: string; span?: number }> = [
  { key: 'live', label: 'Live', span: LIVE_SPAN },
  { key: '1h', label: '1 h', span: HOUR },
  { key: '24h', label: '24 h', span: DAY },
  { key: '7d', label: '7 d', span: 7 * DAY },
  { key: '30d', label: '30 d', span: 30 * DAY },
  { key: 'custom', label: 'Custom' },
]

/** A time window in epoch ms. */
export interface TimeWindow {
  from: number
  to: number
}

export interface Range {
  key: RangeKey
  /** The window of the custom range. */
  custom?: TimeWindow
}

export function rangeWindow(range: Range, now: number): TimeWindow {
  if (range.key === 'custom' && range.custom) return range.custom
  const span = RANGES.find((r) => r.key === range.key)?.span ?? HOUR
  return { from: now - span, to: now }
}

/** Buckets to ask the API for: about one per pixel of chart width, within what the API accepts. */
export const pointsFor = (width: number) => Math.min(10_000, Math.max(60, Math.round(width)))

/** Values by row; `undefined` where a series has no point at another series' time (the line joins over it). */
type Column = (number | undefined)[]

/** Series aligned on one time axis, as a chart shows them. */
export interface ChartData {
  series: ChartSeries[]
  /** Points are buckets with a min/max besides the average (a rollup or downsampled read). */
  banded: boolean
  times: number[]
  avg: Column[]
  /** Empty unless banded. */
  min: Column[]
  max: Column[]
  /** Per series, the time without a point after which its line breaks (see gapAfter). */
  gapAfter: number[]
}

/** Aligns the API's answers (one per series, same order) on the union of their times. */
export function joinPoints(
  series: ChartSeries[],
  answers: SeriesPointView[][],
  allowBands = true,
): ChartData {
  const times = [...new Set(answers.flatMap((points) => points.map((p) => p.time)))].sort((a, b) => a - b)
  const row = new Map(times.map((time, i) => [time, i]))
  const banded = allowBands && answers.some((points) => points.some((p) => p.count > 1))
  const column = (): Column => new Array(times.length).fill(undefined)
  const data: ChartData = { series, banded, times, avg: [], min: [], max: [], gapAfter: [] }
  for (const points of answers) {
    data.gapAfter.push(gapAfter(points.map((p) => p.time)))
    const [avg, min, max] = [column(), column(), column()]
    for (const p of points) {
      const i = row.get(p.time) as number
      avg[i] = p.avg
      min[i] = p.min
      max[i] = p.max
    }
    data.avg.push(avg)
    if (!banded) continue
    data.min.push(min)
    data.max.push(max)
  }
  return data
}

/** Shortest pause that breaks a line: five typical spacings (the median, which a long gap does not skew). */
const GAP_SPACINGS = 5
/** Pauses shorter than this never break a line: devices that report every few seconds stay joined. */
const MIN_GAP = 10_000

/** How long a series may have no point before its line breaks; never for fewer than three points. */
export function gapAfter(times: number[]): number {
  if (times.length < 3) return Number.POSITIVE_INFINITY
  const steps = times.slice(1).map((time, i) => time - (times[i] as number))
  steps.sort((a, b) => a - b)
  return Math.max(GAP_SPACINGS * (steps[steps.length >> 1] as number), MIN_GAP)
}

export interface MeasurementChange {
  entity: string
  type: string
  time: number
  values: Record<string, number>
}

/**
 * The rows of a live chart: measurements appended as they arrive, oldest dropped. Mutated in place
 * so a chart can hand the same arrays to uPlot once per frame.
 */
export class LiveBuffer {
  private readonly columns = new Map<string, number>()

  constructor(readonly data: ChartData) {
    data.series.forEach((s, i) => {
      this.columns.set(seriesKey(s.entity, s.type, s.name), i)
    })
  }

  /** Adds the values of one change that belong to this chart; false when none did. */
  append(change: MeasurementChange): boolean {
    let row = -1
    for (const [name, value] of Object.entries(change.values)) {
      const column = this.columns.get(seriesKey(change.entity, change.type, name))
      if (column === undefined) continue
      if (row < 0) row = this.row(change.time)
      ;(this.data.avg[column] as Column)[row] = value
    }
    return row >= 0
  }

  /** Drops rows before `time`, and the oldest beyond the cap. */
  trim(time: number): void {
    const { times } = this.data
    let drop = 0
    while (drop < times.length && (times[drop] as number) < time) drop++
    drop = Math.max(drop, times.length - LIVE_ROWS)
    if (drop <= 0) return
    times.splice(0, drop)
    for (const column of this.data.avg) column.splice(0, drop)
  }

  get lastTime(): number {
    return this.data.times.at(-1) ?? Number.NEGATIVE_INFINITY
  }

  /** The row of `time`, inserted in order (live values almost always come last). */
  private row(time: number): number {
    const { times, avg } = this.data
    let i = times.length
    while (i > 0 && (times[i - 1] as number) > time) i--
    if (i > 0 && times[i - 1] === time) return i - 1
    times.splice(i, 0, time)
    for (const column of avg) column.splice(i, 0, undefined)
    return i
  }
}

/** uPlot's columns: time, then per series its average (and min, max when banded). */
export function toAligned(data: ChartData): uPlot.AlignedData {
  const columns: Column[] = []
  data.avg.forEach((avg, i) => {
    columns.push(avg)
    if (data.banded) columns.push(data.min[i] as Column, data.max[i] as Column)
  })
  return [data.times, ...columns]
}

export interface ChartLook {
  dark: boolean
  /** Axis text and tick colour. */
  text: string
  grid: string
  /** CSS font of axis values, e.g. "12px system-ui". */
  font: string
  /** Colours of alarm severities, for the markers on the time axis. */
  severity?: Partial<Record<AlarmMarker['severity'], string>>
}

/**
 * uPlot options: ms timestamps; one y scale per unit (see planAxes), its axis coloured like its
 * series when it has one; limit and setpoint lines and alarm markers drawn over the plot; bands
 * from min to max around the average when the data is bucketed.
 */
export function chartOptions(
  { series, banded, gapAfter }: Pick<ChartData, 'series' | 'banded' | 'gapAfter'>,
  size: { width: number; height: number },
  look: ChartLook,
  xRange: () => TimeWindow,
  markers: () => AlarmMarker[] = () => [],
): uPlot.Options {
  const compact = size.width < COMPACT_WIDTH
  const axis = { stroke: look.text, font: look.font, labelFont: look.font, ticks: { stroke: look.grid } }
  const plans = planAxes(series, look.dark, size.width)
  const scales: uPlot.Scales = {
    x: {
      time: true,
      range: () => {
        const { from, to } = xRange()
        return [from, to]
      },
    },
  }
  const axes: uPlot.Axis[] = [
    {
      ...axis,
      grid: { stroke: look.grid, width: 1 },
      space: compact ? 60 : 80,
      values: (_u, splits, _i, _s, step) => timeTicks(splits, step),
    },
  ]
  plans.forEach((plan, i) => {
    scales[plan.scale] = { auto: true, range: (_u, min, max) => axisRange(plan, min, max) }
    const stroke = plan.color ?? look.text
    axes.push({
      ...axis,
      show: plan.show,
      scale: plan.scale,
      side: plan.side,
      stroke,
      label: plan.label,
      labelSize: compact ? 14 : 22,
      // One grid is enough; more units' grids would only cross each other.
      grid: { show: i === 0, stroke: look.grid, width: 1 },
      size: compact ? 34 : 56,
      ticks: { stroke, width: 1, size: compact ? 4 : 6 },
    })
  })
  // Away from the cursor the legend reads the latest values rather than dashes.
  const uSeries: uPlot.Series[] = [
    { label: 'Time', value: (_u, v, _s, row) => (row == null ? 'latest' : v == null ? '—' : formatStamp(v)) },
  ]
  const bands: uPlot.Band[] = []
  // A 1 px line is a hairline for the canvas, far cheaper to rasterize than a wider stroke: with many
  // series (50 live ones on a machine without GPU) that is the frame's largest cost.
  const lineWidth = series.length > MANY_SERIES ? 1 : 2
  const seriesScales: string[] = []
  series.forEach((s, i) => {
    const unit = seriesUnit(s)
    const scale = plans.find((p) => p.unit === (unit ?? ''))?.scale as string
    seriesScales.push(scale)
    const value = (u: uPlot, v: number | null, column: number, row: number | null) =>
      formatValue(row == null ? latest(u.data[column]) : v, unit)
    const gaps = breakLines(gapAfter[i] ?? Number.POSITIVE_INFINITY)
    const color = seriesColor(i, look.dark)
    const dash = seriesDash(i)
    uSeries.push({ label: seriesLabel(s), scale, stroke: color, width: lineWidth, gaps, value, dash })
    if (!banded) return
    const edge = { scale, stroke: withAlpha(color, 0.35), width: 1, gaps, class: 'band-edge' }
    uSeries.push(
      { ...edge, label: `${seriesLabel(s)} min`, value },
      { ...edge, label: `${seriesLabel(s)} max`, value },
    )
    const min = uSeries.length - 2
    bands.push({ series: [min + 1, min], fill: withAlpha(color, 0.12) })
  })
  const guides = series.flatMap((s, i) => guidesOf(s, i))
  const colorOf = (i: number) => seriesColor(i, look.dark)
  return {
    ...size,
    ms: 1,
    scales,
    axes,
    series: uSeries,
    bands,
    cursor: { drag: { x: true, y: false, setScale: true } },
    hooks: {
      draw: [
        (u) => drawGuides(u, guides, (i) => seriesScales[i] as string, colorOf, look),
        (u) => drawAlarmMarkers(u, markers(), look),
      ],
    },
  }
}

/** The last value of a column (the newest row that has one). */
function latest(column: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!column) return null
  for (let i = column.length - 1; i >= 0; i--) {
    const v = column[i]
    if (v != null) return v
  }
  return null
}

/** Labels of the time axis, one line each: seconds when ticks are seconds apart, the date at midnight. */
export function timeTicks(ticks: number[], step: number): string[] {
  const clock = new Intl.DateTimeFormat(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    ...(step < MINUTE ? { second: '2-digit' } : {}),
  })
  const date = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })
  return ticks.map((time) => {
    const d = new Date(time)
    const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0
    return step >= DAY || midnight ? date.format(d) : clock.format(d)
  })
}

/** uPlot gaps (canvas pixel ranges) where a series has no point for longer than `after` ms. */
function breakLines(after: number): uPlot.Series.GapsRefiner {
  return (u, index, first, last, gaps) => {
    if (!Number.isFinite(after)) return gaps
    const times = u.data[0]
    const values = u.data[index] as Column
    let previous = -1
    for (let i = first; i <= last; i++) {
      if (values[i] == null) continue
      if (previous >= 0 && (times[i] as number) - (times[previous] as number) > after) {
        const from = u.valToPos(times[previous] as number, 'x', true)
        gaps.push([Math.round(from), Math.round(u.valToPos(times[i] as number, 'x', true))])
      }
      previous = i
    }
    return gaps
  }
}

const formatStamp = (time: number) =>
  new Date(time).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })

/**
 * A CSV column's name: the series' own id and unit, "filling.fill_pressure [bar]", stable for the
 * scripts that read exports whatever a person names the series. A group series named after its type
 * (type `valves`, name `valves.v1`) is not prefixed twice.
 */
export function csvLabel(s: ChartSeries): string {
  const name = s.name.startsWith(`${s.type}.`) ? s.name : `${s.type}.${s.name}`
  return s.unit ? `${name} [${s.unit}]` : name
}

/** RFC 4180 CSV of the rows within `window`: an ISO time, then a column per series (and its min, max). */
export function toCsv(data: ChartData, window: TimeWindow): string {
  const header = ['time']
  for (const s of data.series) {
    const label = csvLabel(s)
    header.push(label)
    if (data.banded) header.push(`${label} min`, `${label} max`)
  }
  const lines = [header.map(csvField).join(',')]
  const columns = toAligned(data).slice(1) as Column[]
  data.times.forEach((time, i) => {
    if (time < window.from || time > window.to) return
    const cells = columns.map((column) => String(column[i] ?? ''))
    lines.push([new Date(time).toISOString(), ...cells].join(','))
  })
  return `${lines.join('\r\n')}\r\n`
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
