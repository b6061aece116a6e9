import { describe, expect, it } from 'vitest'
import type { SeriesPointView } from '../../src-renderer/lib/api'
import {
  type ChartLook,
  type ChartSeries,
  chartOptions,
  gapAfter,
  joinPoints,
  LiveBuffer,
  pointsFor,
  rangeWindow,
  toAligned,
  toCsv,
  unitsOf,
} from '../../src-renderer/lib/chart'
import { axisRange, guidesOf, planAxes, seriesColor } from '../../src-renderer/lib/chart-axes'
import { alarmMarkers } from '../../src-renderer/lib/chart-draw'
import { keyWindow, MIN_SPAN, pinchWindow, zoomWindow } from '../../src-renderer/lib/chart-gestures'
import { siblingGroup } from '../../src-renderer/lib/sibling-series'

const NOW = Date.parse('2026-05-04T10:00:00Z')
const FILLER = 'device/filler//'
const pressure: ChartSeries = { id: 6, entity: FILLER, type: 'filling', name: 'fill_pressure', unit: 'bar' }
const speed: ChartSeries = { id: 7, entity: FILLER, type: 'filling', name: 'speed', unit: 'bottles/min' }
const count: ChartSeries = { id: 8, entity: FILLER, type: 'filling', name: 'bottles_filled', unit: 'bottles' }
const inlet: ChartSeries = { id: 9, entity: FILLER, type: 'filling', name: 'inlet_pressure', unit: 'bar' }
const look: ChartLook = { dark: false, text: '#555', grid: '#ddd', font: '12px sans-serif' }

const raw = (time: number, value: number): SeriesPointView => ({
  time,
  min: value,
  max: value,
  avg: value,
  count: 1,
})
const bucket = (time: number, min: number, avg: number, max: number): SeriesPointView => ({
  time,
  min,
  max,
  avg,
  count: 60,
})

describe('ranges', () => {
  it('reaches back from now by the range, or shows the custom window', () => {
    expect(rangeWindow({ key: 'live' }, NOW)).toEqual({ from: NOW - 300_000, to: NOW })
    expect(rangeWindow({ key: '1h' }, NOW)).toEqual({ from: NOW - 3_600_000, to: NOW })
    expect(rangeWindow({ key: '24h' }, NOW)).toEqual({ from: NOW - 86_400_000, to: NOW })
    expect(rangeWindow({ key: '7d' }, NOW)).toEqual({ from: NOW - 7 * 86_400_000, to: NOW })
    expect(rangeWindow({ key: '30d' }, NOW)).toEqual({ from: NOW - 30 * 86_400_000, to: NOW })
    const custom = { from: NOW - 5000, to: NOW - 1000 }
    expect(rangeWindow({ key: 'custom', custom }, NOW)).toEqual(custom)
  })

  it('asks for about one point per pixel, within what the API accepts', () => {
    expect(pointsFor(812.4)).toBe(812)
    expect(pointsFor(0)).toBe(60)
    expect(pointsFor(20_000)).toBe(10_000)
  })
})

describe('joinPoints', () => {
  it('aligns series on the union of their times; a series without a point there has undefined', () => {
    const data = joinPoints(
      [pressure, speed],
      [
        [raw(1000, 2.5), raw(2000, 2.6)],
        [raw(2000, 120), raw(3000, 118)],
      ],
    )
    expect(data.banded).toBe(false)
    expect(toAligned(data)).toEqual([
      [1000, 2000, 3000],
      [2.5, 2.6, undefined],
      [undefined, 120, 118],
    ])
  })

  it('keeps min and max of buckets as a band around the average', () => {
    const data = joinPoints([pressure], [[bucket(0, 2.1, 2.5, 2.9), bucket(60_000, 2.2, 2.4, 2.6)]])
    expect(data.banded).toBe(true)
    expect(toAligned(data)).toEqual([
      [0, 60_000],
      [2.5, 2.4],
      [2.1, 2.2],
      [2.9, 2.6],
    ])
  })

  it('drops the band when asked to (a live chart appends single values)', () => {
    expect(joinPoints([pressure], [[bucket(0, 2.1, 2.5, 2.9)]], false).banded).toBe(false)
  })
})

describe('gapAfter', () => {
  it('breaks a line after five typical spacings, never for pauses under 10 s', () => {
    const everySecond = Array.from({ length: 100 }, (_, i) => i * 1000)
    expect(gapAfter(everySecond)).toBe(10_000)
    const everyMinute = [...Array.from({ length: 30 }, (_, i) => i * 60_000), 3_600_000]
    expect(gapAfter(everyMinute)).toBe(300_000)
    expect(gapAfter([0, 1000])).toBe(Number.POSITIVE_INFINITY)
  })
})

describe('LiveBuffer', () => {
  const change = (time: number, values: Record<string, number>, entity = FILLER, type = 'filling') => ({
    entity,
    type,
    time,
    values,
  })

  it('appends values of its series as rows, in time order, and ignores the rest', () => {
    const buffer = new LiveBuffer(joinPoints([pressure, speed], [[raw(1000, 2.5)], [raw(1000, 120)]], false))
    expect(buffer.append(change(2000, { fill_pressure: 2.6, speed: 119, bottles_filled: 4 }))).toBe(true)
    expect(buffer.append(change(3000, { level: 50 }, 'device/tank//', 'tank'))).toBe(false)
    expect(buffer.append(change(1500, { speed: 121 }))).toBe(true)
    expect(toAligned(buffer.data)).toEqual([
      [1000, 1500, 2000],
      [2.5, undefined, 2.6],
      [120, 121, 119],
    ])
  })

  it('drops rows older than the window', () => {
    const buffer = new LiveBuffer(joinPoints([pressure], [[raw(1000, 1), raw(2000, 2), raw(3000, 3)]], false))
    buffer.trim(2500)
    expect(toAligned(buffer.data)).toEqual([[3000], [3]])
    expect(buffer.lastTime).toBe(3000)
  })
})

describe('chartOptions', () => {
  const options = (series: ChartSeries[], banded = false) =>
    chartOptions({ series, banded, gapAfter: [] }, { width: 800, height: 300 }, look, () => ({
      from: 0,
      to: 1,
    }))

  it('gives series of one unit one axis, a second unit a second axis on the other side', () => {
    expect(unitsOf([pressure, inlet, speed])).toEqual(['bar', 'bottles/min'])
    const { axes = [], series = [] } = options([pressure, inlet, speed])
    // Two series share bar: a neutral axis named by the unit; speed alone: named and coloured like it.
    expect(axes.slice(1).map((a) => [a.label, a.side, a.stroke])).toEqual([
      ['bar', 3, look.text],
      ['Speed [bottles/min]', 1, seriesColor(2, false)],
    ])
    expect(series.slice(1).map((s) => s.scale)).toEqual(['unit:bar', 'unit:bar', 'unit:bottles/min'])
  })

  it('adds a third unit on the left again', () => {
    const { axes = [] } = options([pressure, speed, count])
    expect(axes.map((a) => a.side)).toEqual([undefined, 3, 1, 3])
  })

  it('draws min and max as a band when the data is bucketed', () => {
    const { series = [], bands = [] } = options([pressure, speed], true)
    expect(series.map((s) => s.label)).toEqual([
      'Time',
      'Fill pressure [bar]',
      'Fill pressure [bar] min',
      'Fill pressure [bar] max',
      'Speed [bottles/min]',
      'Speed [bottles/min] min',
      'Speed [bottles/min] max',
    ])
    expect(bands.map((b) => b.series)).toEqual([
      [3, 2],
      [6, 5],
    ])
  })
})

describe('toCsv', () => {
  it('writes an ISO time and a column per series, only for the rows shown', () => {
    const data = joinPoints(
      [pressure, speed],
      [
        [raw(NOW - 2000, 2.5), raw(NOW - 1000, 2.61), raw(NOW, 2.7)],
        [raw(NOW - 1000, 120), raw(NOW, 118)],
      ],
    )
    expect(toCsv(data, { from: NOW - 1500, to: NOW })).toBe(
      'time,filling.fill_pressure [bar],filling.speed [bottles/min]\r\n' +
        '2026-05-04T09:59:59.000Z,2.61,120\r\n' +
        '2026-05-04T10:00:00.000Z,2.7,118\r\n',
    )
  })

  it('adds min and max columns for buckets, leaves gaps empty and quotes what needs it', () => {
    const odd: ChartSeries = { id: 1, entity: FILLER, type: 'x', name: 'a,"b"', unit: null }
    const data = joinPoints([odd, pressure], [[bucket(0, 1, 2, 3)], [bucket(60_000, 2, 2.5, 3)]])
    expect(toCsv(data, { from: 0, to: 60_000 }).split('\r\n')).toEqual([
      'time,"x.a,""b""","x.a,""b"" min","x.a,""b"" max",' +
        'filling.fill_pressure [bar],filling.fill_pressure [bar] min,filling.fill_pressure [bar] max',
      '1970-01-01T00:00:00.000Z,2,1,3,,,',
      '1970-01-01T00:01:00.000Z,,,,2.5,2,3',
      '',
    ])
  })
})

describe('axes by unit, with ranges and limits from the series settings', () => {
  const level: ChartSeries = {
    id: 10,
    entity: 'device/tank//',
    type: 'tank',
    name: 'level',
    unit: '%',
    settings: { range: { min: 0, max: 100 }, limits: { low: 15 } },
  }
  const temperature: ChartSeries = {
    id: 11,
    entity: 'device/tank//',
    type: 'tank',
    name: 'temperature',
    unit: '°C',
    settings: { displayName: 'Product temperature', limits: { high: 8, highHigh: 10 }, setpoint: 6 },
  }

  it('names an axis after its only series, coloured like it; a shared unit gets a neutral axis', () => {
    const plans = planAxes([level, temperature, pressure, inlet], false)
    expect(plans.map((p) => [p.label, p.color, p.side])).toEqual([
      ['Level [%]', seriesColor(0, false), 3],
      ['Product temperature [°C]', seriesColor(1, false), 1],
      ['bar', undefined, 3],
    ])
  })

  it('uses a display name and a unit override, for axes and legends', () => {
    const renamed = { ...pressure, settings: { displayName: 'Nozzle pressure', unit: 'kPa' } }
    expect(unitsOf([renamed, inlet])).toEqual(['kPa', 'bar'])
    expect(planAxes([renamed], true)[0]?.label).toBe('Nozzle pressure [kPa]')
  })

  it('takes a fixed range as it is, and keeps limits and setpoint in view of an automatic one', () => {
    const [fixed, auto] = planAxes([level, temperature], false) as [AxisPlanT, AxisPlanT]
    expect(axisRange(fixed, 35, 70)).toEqual([0, 100])
    const [min, max] = axisRange(auto, 6.0, 6.7)
    expect(min).toBeLessThan(6)
    expect(max).toBeGreaterThan(10)
    // Without limits the range is the values' own, padded.
    const [bare] = planAxes([pressure], false) as [AxisPlanT]
    expect(axisRange(bare, 2, 3)).toEqual([1.95, 3.05])
  })

  it('turns limits and setpoint into guide lines on the series scale, drawn by the chart', () => {
    expect(guidesOf(temperature, 1).map((g) => [g.kind, g.value, g.tag, g.series])).toEqual([
      ['high', 8, 'H 8', 1],
      ['highHigh', 10, 'HH 10', 1],
      ['setpoint', 6, 'SP 6', 1],
    ])
    const options = chartOptions(
      { series: [level, temperature], banded: false, gapAfter: [] },
      { width: 800, height: 300 },
      look,
      () => ({ from: 0, to: 1 }),
    )
    expect(options.hooks?.draw).toHaveLength(2)
    const range = options.scales?.['unit:%']?.range as unknown as (
      u: unknown,
      min: number,
      max: number,
    ) => number[]
    expect(range(undefined, 35, 70)).toEqual([0, 100])
  })

  it('keeps at most two compact axes on a phone-wide chart', () => {
    const plans = planAxes([level, temperature, pressure], false, 358)
    expect(plans.map((p) => p.show)).toEqual([true, true, false])
    const options = chartOptions(
      { series: [level, temperature, pressure], banded: false, gapAfter: [] },
      { width: 358, height: 240 },
      look,
      () => ({ from: 0, to: 1 }),
    )
    expect(options.axes?.slice(1).map((a) => [a.show, a.size])).toEqual([
      [true, 34],
      [true, 34],
      [false, 34],
    ])
  })

  it('draws series in Okabe–Ito colours, distinct in both themes, dashed after the eighth', () => {
    for (const dark of [false, true]) {
      const colours = Array.from({ length: 8 }, (_, i) => seriesColor(i, dark))
      expect(new Set(colours).size).toBe(8)
    }
    expect(seriesColor(0, false)).toBe('#0072b2')
    const many = Array.from({ length: 9 }, (_, i) => ({ ...pressure, id: i, name: `p${i}` }))
    const options = chartOptions(
      { series: many, banded: false, gapAfter: [] },
      { width: 800, height: 300 },
      look,
      () => ({
        from: 0,
        to: 1,
      }),
    )
    expect(options.series?.[8]?.dash).toBeUndefined()
    expect(options.series?.[9]?.dash).toEqual([8, 4])
  })
})

type AxisPlanT = ReturnType<typeof planAxes>[number]

describe('sibling series', () => {
  const valve = (n: number, unit = 'L/min'): ChartSeries => ({
    id: 20 + n,
    entity: 'device/valve-bank//',
    type: 'valves',
    name: `valves.v${n}`,
    unit,
  })

  it('finds a group of three or more members of one type and unit', () => {
    expect(siblingGroup([1, 2, 3, 4, 5, 6].map((n) => valve(n)))).toBe('valves')
    expect(siblingGroup([valve(1), valve(2)])).toBeUndefined()
    expect(siblingGroup([valve(1), valve(2), valve(3, 'bar')])).toBeUndefined()
    expect(siblingGroup([pressure, speed, count])).toBeUndefined()
  })
})

describe('alarm markers', () => {
  it('marks alarms raised or repeated within the window, oldest first', () => {
    const alarms = [
      { type: 'level_low', severity: 'major' as const, text: 'Level low', firstTime: 5000, lastTime: 9000 },
      { type: 'overheat', severity: 'critical' as const, text: '', firstTime: 1000, lastTime: 1000 },
      { type: 'old', severity: 'minor' as const, text: 'Old', firstTime: 10, lastTime: 20 },
    ]
    expect(alarmMarkers(alarms, { from: 500, to: 8000 })).toEqual([
      { time: 1000, severity: 'critical', text: 'overheat' },
      { time: 5000, severity: 'major', text: 'Level low' },
    ])
  })
})

describe('zoom by touch and keys', () => {
  const hour = { from: 0, to: 3_600_000 }

  it('zooms around a point and never below the shortest span', () => {
    expect(zoomWindow(hour, 0.5)).toEqual({ from: 900_000, to: 2_700_000 })
    expect(zoomWindow(hour, 0.5, 0)).toEqual({ from: 0, to: 1_800_000 })
    expect(zoomWindow({ from: 0, to: 12_000 }, 0.1)).toEqual({ from: 1000, to: 11_000 })
    expect(MIN_SPAN).toBe(10_000)
  })

  it('keeps the times under two spreading fingers under them (pinch), and pans with one', () => {
    // Fingers at 200 and 400 of 800 px spread to 100 and 500: twice as far apart, half the span.
    const pinched = pinchWindow(hour, 800, [200, 400], [100, 500])
    expect(pinched.to - pinched.from).toBe(1_800_000)
    expect(pinched.from + (300 / 800) * 1_800_000).toBeCloseTo(1_350_000, -1)
    // One finger dragged 200 px to the right shows a quarter of an hour earlier.
    expect(pinchWindow(hour, 800, [400], [600])).toEqual({ from: -900_000, to: 2_700_000 })
  })

  it('zooms with + and −, pans with the arrow keys, and leaves other keys alone', () => {
    expect(keyWindow('+', hour)).toEqual({ from: 900_000, to: 2_700_000 })
    expect(keyWindow('-', hour)).toEqual({ from: -1_800_000, to: 5_400_000 })
    expect(keyWindow('ArrowRight', hour)).toEqual({ from: 900_000, to: 4_500_000 })
    expect(keyWindow('Tab', hour)).toBeUndefined()
  })
})
