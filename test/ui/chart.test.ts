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
    expect(axes.slice(1).map((a) => [a.label, a.side])).toEqual([
      ['bar', 3],
      ['bottles/min', 1],
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
      'filling.fill_pressure [bar]',
      'filling.fill_pressure [bar] min',
      'filling.fill_pressure [bar] max',
      'filling.speed [bottles/min]',
      'filling.speed [bottles/min] min',
      'filling.speed [bottles/min] max',
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
