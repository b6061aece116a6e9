import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

type Detail = {
  series: Array<{ id: number; name: string; type: string; unit: string | null; lastValue: number }>
}
type Points = {
  resolution: 'raw' | 'minute' | 'hour'
  points: Array<{ time: number; min: number; max: number; avg: number; count: number }>
}

const HOUR = 3_600_000
const MINUTE = 60_000

describe('measurement series over time ranges', () => {
  let t: TestCore
  let seriesId: number
  // Six hours of one value per minute, ending at an hour boundary in the past.
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR
  const start = end - 6 * HOUR
  const valueAt = (time: number) => (time - start) / MINUTE // 0, 1, 2, … per minute

  beforeAll(async () => {
    t = await startCore()
    const client = await t.client()
    await client.publishAsync('te/device/oven//', JSON.stringify({ '@type': 'child-device', name: 'Oven' }), {
      retain: true,
      qos: 1,
    })
    await client.publishAsync(
      'te/device/oven///m/climate/meta',
      JSON.stringify({ temperature: { unit: '°C' } }),
      {
        retain: true,
        qos: 1,
      },
    )
    for (let time = start; time < end; time += MINUTE) {
      const payload = JSON.stringify({ time: new Date(time).toISOString(), temperature: valueAt(time) })
      await client.publishAsync('te/device/oven///m/climate', payload, { qos: 1 })
    }
    const detail = await t.json<Detail>('/api/v1/entities/device%2Foven%2F%2F')
    const series = detail.series.find((s) => s.name === 'temperature')
    expect(series).toMatchObject({ type: 'climate', unit: '°C', lastValue: 359 })
    seriesId = series?.id as number
  })
  afterAll(() => t.stop())

  it('answers raw samples when the range holds fewer than the requested points', async () => {
    const r = await t.json<Points>(
      `/api/v1/series/${seriesId}?from=${start}&to=${start + 10 * MINUTE}&points=100`,
    )
    expect(r.resolution).toBe('raw')
    expect(r.points.map((p) => p.avg)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('buckets raw samples with min/max/avg when there are more than the requested points', async () => {
    const r = await t.json<Points>(
      `/api/v1/series/${seriesId}?from=${start}&to=${start + 10 * MINUTE}&points=5`,
    )
    expect(r.points).toHaveLength(5)
    expect(r.points[0]).toMatchObject({ time: start, min: 0, max: 1, avg: 0.5, count: 2 })
  })

  it('reads minute rollups for hours and hour rollups for days', async () => {
    const minutes = await t.json<Points>(`/api/v1/series/${seriesId}?from=${start}&to=${end}&points=60`)
    expect(minutes.resolution).toBe('minute')
    expect(minutes.points).toHaveLength(60)
    expect(minutes.points[0]).toMatchObject({ min: 0, max: 5, avg: 2.5, count: 6 })
    const hours = await t.json<Points>(`/api/v1/series/${seriesId}?from=${start}&to=${end}&points=6`)
    expect(hours.resolution).toBe('hour')
    expect(hours.points.map((p) => [p.min, p.max, p.count])).toEqual([
      [0, 59, 60],
      [60, 119, 60],
      [120, 179, 60],
      [180, 239, 60],
      [240, 299, 60],
      [300, 359, 60],
    ])
    expect(hours.points[5]?.avg).toBeCloseTo(329.5)
  })

  it('accepts ISO 8601 times and rejects bad ranges', async () => {
    const iso = await t.http(
      `/api/v1/series/${seriesId}?from=${new Date(start).toISOString()}&to=${new Date(end).toISOString()}&points=6`,
    )
    expect(iso.status).toBe(200)
    const backwards = await t.http(`/api/v1/series/${seriesId}?from=${end}&to=${start}`)
    expect(backwards.status).toBe(400)
    expect(await backwards.json()).toEqual({ error: '"from" must be before "to"' })
    const garbage = await t.http(`/api/v1/series/${seriesId}?from=yesterday`)
    expect(garbage.status).toBe(400)
    expect((await t.http('/api/v1/series/99999')).status).toBe(404)
  })

  it('serves values published without a time, stamped on receipt', async () => {
    const client = await t.client()
    await client.publishAsync('te/device/oven///m/climate', JSON.stringify({ humidity: 41.5 }), { qos: 1 })
    await vi.waitFor(async () => {
      const detail = await t.json<Detail>('/api/v1/entities/device%2Foven%2F%2F')
      expect(detail.series.find((s) => s.name === 'humidity')?.lastValue).toBe(41.5)
    })
  })
})
