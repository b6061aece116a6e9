import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'

const DAY = 86_400_000

describe('retention', () => {
  let t: TestCore
  const now = Date.now()
  const rows = (table: string) =>
    (t.core.parts.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

  beforeAll(async () => {
    t = await startCore({
      retention: { rawDays: 2, minuteDays: 5, hourDays: 20, eventDays: 3, clearedAlarmDays: 1 },
    })
    const client = await t.client()
    await client.publishAsync('te/device/pump//', JSON.stringify({ '@type': 'child-device' }), {
      retain: true,
      qos: 1,
    })
    // One sample and one event per day for 30 days.
    for (let day = 0; day < 30; day++) {
      const time = new Date(now - day * DAY - 1000).toISOString()
      await client.publishAsync('te/device/pump///m/flow', JSON.stringify({ time, rate: day }), { qos: 1 })
      await client.publishAsync('te/device/pump///e/start', JSON.stringify({ time, text: `day ${day}` }), {
        qos: 1,
      })
    }
    await client.publishAsync(
      'te/device/pump///a/leak',
      JSON.stringify({ text: 'Leak', time: new Date(now - 3 * DAY).toISOString() }),
      {
        retain: true,
        qos: 1,
      },
    )
    await client.publishAsync('te/device/pump///a/leak', '', { retain: true, qos: 1 })
    await vi.waitFor(() => expect(rows('events')).toBe(30))
  })
  afterAll(() => t.stop())

  it('deletes raw sample chunks, rollups, events and cleared alarms older than their retention', () => {
    const { series, events, alarms, db } = t.core.parts
    expect([rows('sample_chunks'), rows('rollups_minute'), rows('rollups_hour'), rows('events')]).toEqual([
      30, 30, 30, 30,
    ])
    series.applyRetention(t.core.parts.options.retention, now)
    events.applyRetention(3, now)
    // The alarm was cleared just now: kept for a day after clearing.
    expect(alarms.applyRetention(1, now)).toBe(0)
    expect(alarms.applyRetention(1, now + 2 * DAY)).toBe(1)
    expect([rows('sample_chunks'), rows('rollups_minute'), rows('rollups_hour'), rows('events')]).toEqual([
      2, 5, 20, 3,
    ])
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
  })
})
