import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../../src-main/core/store/database'
import { BatchWriter } from '../../../src-main/core/store/writer'
import { decodeChunk, encodeChunk } from '../../../src-main/core/telemetry/sample-chunk'
import { SeriesStore } from '../../../src-main/core/telemetry/series-store'
import { tempDir } from '../../helpers/core'

describe('sample chunks', () => {
  it('round-trip times and values, whatever the buffer alignment', () => {
    const data = encodeChunk([1.5, 2.25, 1_795_000_000_000.125], [-1, 0.1, 1e300])
    const unaligned = Buffer.concat([Buffer.from([0]), data]).subarray(1)
    expect([...decodeChunk(unaligned, 3)]).toEqual([1.5, 2.25, 1_795_000_000_000.125, -1, 0.1, 1e300])
  })
})

describe('SeriesStore', () => {
  let db: Database
  let writer: BatchWriter
  let store: SeriesStore
  const errors: unknown[] = []

  beforeEach(() => {
    db = openDatabase(path.join(tempDir(), 'edgetwin.db'))
    writer = new BatchWriter(db, { maxOps: 1000, maxDelayMs: 1000, onError: (e) => errors.push(e) })
    store = new SeriesStore(db, writer)
    store.start()
  })
  afterEach(() => {
    writer.stop()
    db.close()
  })

  it('writes one chunk per series per batch and answers samples in time order across chunks', () => {
    const t0 = Date.now() - 60_000
    store.add(1, 'env', t0 + 3000, ['temp'], [3])
    store.add(1, 'env', t0 + 1000, ['temp'], [1])
    store.add(1, 'env', t0 + 1000, ['hum'], [50])
    writer.flush()
    store.add(1, 'env', t0 + 2000, ['temp'], [2])
    writer.flush()
    expect(db.prepare('SELECT series_id, count FROM sample_chunks ORDER BY id').all()).toEqual([
      { series_id: 1, count: 2 },
      { series_id: 2, count: 1 },
      { series_id: 1, count: 1 },
    ])
    const temp = store.find(1, 'env', 'temp')
    expect(temp).toMatchObject({ lastTime: t0 + 3000, lastValue: 3 })
    const { resolution, points } = store.query(temp?.id as number, t0, t0 + 10_000, 100, 7)
    expect(resolution).toBe('raw')
    expect(points.map((p) => [p.time - t0, p.avg])).toEqual([
      [1000, 1],
      [2000, 2],
      [3000, 3],
    ])
    expect(errors).toEqual([])
  })

  it('keeps samples of the same instant (none overwrites another)', () => {
    const t = Date.now() - 1000
    store.add(1, 'env', t, ['temp'], [1])
    store.add(1, 'env', t, ['temp'], [2])
    writer.flush()
    const { points } = store.query(store.find(1, 'env', 'temp')?.id as number, t - 1, t + 1, 10, 7)
    expect(points.map((p) => p.avg).sort()).toEqual([1, 2])
  })

  it('leaves nothing behind of a removed entity, buffered samples included', () => {
    store.add(7, 'env', Date.now(), ['temp'], [1])
    writer.flush()
    store.add(7, 'env', Date.now(), ['temp'], [2])
    store.removeEntities([7])
    writer.flush()
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    expect([count('series'), count('sample_chunks'), count('rollups_minute'), count('rollups_hour')]).toEqual(
      [0, 0, 0, 0],
    )
    expect(store.buffered).toBe(0)
  })
})
