import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  type Batch,
  batchError,
  Deduplicator,
  DOWN_KINDS,
  decodePayload,
  decodePayloadSync,
  downFilter,
  downKind,
  downTopic,
  encodeBatch,
  isGzip,
  siteIdError,
  UP_KINDS,
  type UpItem,
  upTopic,
} from '../../../src-main/core/sync/protocol'

const item = (seq: number, kind: UpItem['kind'] = 'event', stream = 's1', site = 'plant-1'): UpItem => ({
  id: `${site}/${stream}/${seq}`,
  seq,
  kind,
  entity: 'device/press//',
  queuedAt: 1_700_000_000_000 + seq,
})

/** One upstream message of `site` and `stream` carrying `items`. */
const batchOf = (items: UpItem[], stream = 's1', site = 'plant-1'): Batch => ({ v: 1, site, stream, items })

const seqs = (items: UpItem[]) => items.map((i) => i.seq)

/** The limit decodePayload puts on what a gzip payload may inflate to. */
const MAX_DECODED_BYTES = 16 * 1024 * 1024

describe('topics', () => {
  it('puts all upstream items on one topic per site, and each request kind on its own downstream topic', () => {
    expect(upTopic('plant-1')).toBe('edgetwin/v1/plant-1/up')
    expect(downTopic('plant-1', 'desired')).toBe('edgetwin/v1/plant-1/down/desired')
    expect(downFilter('plant-1')).toBe('edgetwin/v1/plant-1/down/+')
  })

  it('reads back the kind of every downstream topic it formats', () => {
    for (const kind of DOWN_KINDS) expect(downKind('plant-1', downTopic('plant-1', kind))).toBe(kind)
  })

  it('reads the kind of a downstream topic it does not know, for the service to refuse', () => {
    expect(downKind('plant-1', 'edgetwin/v1/plant-1/down/bogus')).toBe('bogus')
  })

  it('names no kind for another site, the upstream topic or a deeper topic', () => {
    expect(downKind('plant-2', downTopic('plant-1', 'alarm'))).toBeUndefined()
    expect(downKind('plant-1', upTopic('plant-1'))).toBeUndefined()
    expect(downKind('plant-1', 'edgetwin/v1/plant-1/up/alarm')).toBeUndefined()
    expect(downKind('plant-1', 'edgetwin/v1/plant-1/down/alarm/extra')).toBeUndefined()
    expect(downKind('plant-1', 'edgetwin/v1/plant-10/down/alarm')).toBeUndefined()
    expect(downKind('plant-10', 'edgetwin/v1/plant-1/down/alarm')).toBeUndefined()
  })
})

describe('siteIdError', () => {
  it.each(['plant-1', 'A', 'site_2.hall-3', '0', 'x'.repeat(64)])('accepts %s', (site) => {
    expect(siteIdError(site)).toBeUndefined()
  })

  it.each([
    ['empty', ''],
    ['a topic separator', 'plant/1'],
    ['a single-level wildcard', 'plant+'],
    ['a multi-level wildcard', '#'],
    ['a space', 'plant 1'],
    ['a leading dash', '-plant'],
    ['a leading dot', '.plant'],
    ['65 characters', 'x'.repeat(65)],
    ['non-ASCII letters', 'usine-é'],
  ])('rejects %s', (_, site) => {
    expect(siteIdError(site)).toMatch(/must be 1-64 letters/)
  })
})

describe('payload encoding', () => {
  const batch = batchOf([item(1, 'entity'), item(2, 'alarm'), item(3, 'measurements')])

  it('gzips batches and decodes them back, async and sync', async () => {
    const payload = await encodeBatch(JSON.stringify(batch))
    expect(isGzip(payload)).toBe(true)
    expect(await decodePayload(payload)).toEqual(batch)
    expect(decodePayloadSync(payload)).toEqual(batch)
  })

  it('compresses a realistic batch of measurements', async () => {
    const items = Array.from({ length: 200 }, (_, i) => ({
      ...item(i + 1, 'measurements'),
      temperature: 20 + i / 10,
    }))
    const json = JSON.stringify({ ...batch, items })
    expect((await encodeBatch(json)).length).toBeLessThan(json.length / 4)
  })

  it('takes plain UTF-8 JSON as it is', async () => {
    const payload = Buffer.from(JSON.stringify({ ...batch, note: 'Prüfstand' }))
    expect(isGzip(payload)).toBe(false)
    expect(await decodePayload(payload)).toEqual({ ...batch, note: 'Prüfstand' })
    expect(decodePayloadSync(payload)).toEqual({ ...batch, note: 'Prüfstand' })
  })

  it('tells gzip by its two magic bytes only', () => {
    expect(isGzip(Buffer.from([]))).toBe(false)
    expect(isGzip(Buffer.from([0x1f]))).toBe(false)
    expect(isGzip(Buffer.from([0x1f, 0x8b]))).toBe(true)
    expect(isGzip(gzipSync('{}'))).toBe(true)
    expect(isGzip(Buffer.from('{"v":1}'))).toBe(false)
  })

  it('rejects what is neither gzip nor JSON', async () => {
    await expect(decodePayload(Buffer.from('not json'))).rejects.toThrow(SyntaxError)
    await expect(decodePayload(Buffer.from([0x1f, 0x8b, 0, 1, 2]))).rejects.toThrow()
    expect(() => decodePayloadSync(Buffer.from('{'))).toThrow(SyntaxError)
  })

  it('refuses a gzip bomb instead of inflating it', async () => {
    // 17 MiB of zeros: about 17 kB on the wire, one MiB beyond the limit once inflated.
    const bomb = gzipSync(Buffer.alloc(17 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(64 * 1024)
    const tooLarge = expect.objectContaining({ name: 'RangeError', code: 'ERR_BUFFER_TOO_LARGE' })
    await expect(decodePayload(bomb)).rejects.toEqual(tooLarge)
    expect(() => decodePayloadSync(bomb)).toThrow(RangeError)
    expect(() => decodePayloadSync(bomb)).toThrow(/larger than 16777216 bytes/)
  })

  it('inflates a payload of exactly 16 MiB, and refuses one byte more', async () => {
    // Valid JSON padded with whitespace to the exact size.
    const json = (size: number) => {
      const text = JSON.stringify(batch)
      return Buffer.from(text + ' '.repeat(size - text.length))
    }
    const atLimit = gzipSync(json(MAX_DECODED_BYTES))
    expect(await decodePayload(atLimit)).toEqual(batch)
    expect(decodePayloadSync(atLimit)).toEqual(batch)
    const overLimit = gzipSync(json(MAX_DECODED_BYTES + 1))
    await expect(decodePayload(overLimit)).rejects.toThrow(RangeError)
    expect(() => decodePayloadSync(overLimit)).toThrow(RangeError)
  })
})

describe('batchError', () => {
  const valid = batchOf([item(1)])
  /** The valid batch whose one item has `fields` changed. */
  const withItem = (fields: Record<string, unknown>) => ({ ...valid, items: [{ ...item(1), ...fields }] })

  it('accepts a batch, with or without items', () => {
    expect(batchError(valid)).toBeUndefined()
    expect(batchError({ ...valid, items: [] })).toBeUndefined()
  })

  it('accepts items of every kind mixed in one batch', () => {
    const items = UP_KINDS.map((kind, i) => item(i + 1, kind))
    expect(batchError(batchOf(items))).toBeUndefined()
  })

  it('accepts the largest safe seq and extra fields on an item', () => {
    expect(batchError(withItem({ seq: Number.MAX_SAFE_INTEGER }))).toBeUndefined()
    expect(batchError(withItem({ type: 'overheat', series: { t: [1, 2] } }))).toBeUndefined()
  })

  it.each([
    ['null', null, 'not a JSON object'],
    ['a number', 42, 'not a JSON object'],
    ['a string', 'batch', 'not a JSON object'],
    ['another protocol version', { ...valid, v: 2 }, 'unsupported protocol version 2'],
    ['no version', { ...valid, v: undefined }, 'unsupported protocol version undefined'],
    ['a version as a string', { ...valid, v: '1' }, 'unsupported protocol version 1'],
    ['no site', { ...valid, site: undefined }, 'missing site or stream'],
    ['a numeric stream', { ...valid, stream: 7 }, 'missing site or stream'],
    ['no items', { ...valid, items: undefined }, 'missing items'],
    ['items as an object', { ...valid, items: { 0: item(1) } }, 'missing items'],
  ])('rejects %s', (_, value, reason) => {
    expect(batchError(value)).toBe(reason)
  })

  const noSeq = 'an item lacks its seq (a positive integer)'
  it.each([
    ['a null item', { ...valid, items: [item(1), null] }],
    ['a string item', { ...valid, items: ['plant-1/s1/1'] }],
    ['an item without seq', withItem({ seq: undefined })],
    ['a seq as a string', withItem({ seq: '1' })],
    ['a seq of 0', withItem({ seq: 0 })],
    ['a negative seq', withItem({ seq: -3 })],
    ['a fractional seq', withItem({ seq: 1.5 })],
    ['a seq beyond the safe integers', withItem({ seq: 2 ** 53 })],
    ['a NaN seq', withItem({ seq: Number.NaN })],
    ['an infinite seq', withItem({ seq: Number.POSITIVE_INFINITY })],
  ])('rejects %s', (_, value) => {
    expect(batchError(value)).toBe(noSeq)
  })

  it.each([
    ['no id', { id: undefined }],
    ['a numeric id', { id: 1 }],
    ['no entity', { entity: undefined }],
    ['a null entity', { entity: null }],
    ['no queuedAt', { queuedAt: undefined }],
    ['a queuedAt as a string', { queuedAt: '2023-11-14T22:13:20Z' }],
  ])('rejects an item with %s', (_, fields) => {
    expect(batchError(withItem(fields))).toBe('item 1 lacks its id, entity or queuedAt')
  })

  it.each([
    ['no kind', undefined, 'undefined'],
    ['a numeric kind', 3, '3'],
    ['an unknown kind', 'bogus', 'bogus'],
    ['a kind in capitals', 'EVENT', 'EVENT'],
    ['a null kind', null, 'null'],
  ])('rejects an item with %s', (_, kind, shown) => {
    expect(batchError(withItem({ kind }))).toBe(`item 1 has an unknown kind "${shown}"`)
  })

  it('names the first bad item, wherever it is in the batch', () => {
    const items = [item(1), item(2, 'alarm'), { ...item(3), entity: 7 }, { ...item(4), kind: 'bogus' }]
    expect(batchError({ ...valid, items })).toBe('item 3 lacks its id, entity or queuedAt')
    expect(batchError({ ...valid, items: [item(1), { ...item(2), seq: 0 }, item(3)] })).toBe(noSeq)
  })
})

describe('Deduplicator', () => {
  it('passes a stream through in order', () => {
    const dedup = new Deduplicator()
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)])))).toEqual([1, 2])
    expect(seqs(dedup.fresh(batchOf([item(3)])))).toEqual([3])
  })

  it('keeps one order across kinds: a batch may mix them, and seqs count across all of them', () => {
    const dedup = new Deduplicator()
    const first = [item(1, 'entity'), item(2, 'twin'), item(3, 'measurements')]
    expect(dedup.fresh(batchOf(first))).toEqual(first)
    // A seq seen as one kind is a copy whatever kind the next item with it has.
    expect(seqs(dedup.fresh(batchOf([item(3, 'alarm'), item(4, 'alarm'), item(5, 'response')])))).toEqual([
      4, 5,
    ])
    expect(dedup.fresh(batchOf([item(2, 'event')]))).toEqual([])
  })

  it('drops a batch redelivered after a reconnect, and the copies in an overlapping resend', () => {
    const dedup = new Deduplicator()
    const first = batchOf([item(1), item(2), item(3)])
    expect(seqs(dedup.fresh(first))).toEqual([1, 2, 3])
    // QoS 1 redelivery of the same message: nothing new.
    expect(dedup.fresh(first)).toEqual([])
    // The edge resends from its oldest unacknowledged item, with newer ones appended.
    expect(seqs(dedup.fresh(batchOf([item(2), item(3), item(4), item(5)])))).toEqual([4, 5])
  })

  it('keeps streams of one site apart', () => {
    const dedup = new Deduplicator()
    expect(seqs(dedup.fresh(batchOf([item(1), item(2), item(3)])))).toEqual([1, 2, 3])
    expect(seqs(dedup.fresh(batchOf([item(1, 'event', 's2'), item(2, 'event', 's2')], 's2')))).toEqual([1, 2])
    expect(dedup.fresh(batchOf([item(3)]))).toEqual([])
    expect(seqs(dedup.fresh(batchOf([item(3, 'event', 's2')], 's2')))).toEqual([3])
  })

  it('keeps sites apart even when their streams have the same id', () => {
    const dedup = new Deduplicator()
    const a = (seq: number) => item(seq, 'event', 'edge', 'plant-a')
    const b = (seq: number) => item(seq, 'event', 'edge', 'plant-b')
    expect(seqs(dedup.fresh(batchOf([a(1), a(2), a(3)], 'edge', 'plant-a')))).toEqual([1, 2, 3])
    // plant-b's seq 1 is not a copy of plant-a's.
    expect(seqs(dedup.fresh(batchOf([b(1), b(2)], 'edge', 'plant-b')))).toEqual([1, 2])
    expect(dedup.fresh(batchOf([a(3)], 'edge', 'plant-a'))).toEqual([])
    expect(dedup.fresh(batchOf([b(2)], 'edge', 'plant-b'))).toEqual([])
    expect(seqs(dedup.fresh(batchOf([b(3), b(4)], 'edge', 'plant-b')))).toEqual([3, 4])
    expect(seqs(dedup.fresh(batchOf([a(4)], 'edge', 'plant-a')))).toEqual([4])
  })

  it('does not confuse a site and stream with another pair that spells the same when joined', () => {
    const dedup = new Deduplicator()
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)], 'bc', 'a')))).toEqual([1, 2])
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)], 'c', 'ab')))).toEqual([1, 2])
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)], 'b-c', 'a')))).toEqual([1, 2])
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)], 'c', 'a-b')))).toEqual([1, 2])
  })

  it('accepts gaps left by items the edge dropped, and never goes back into them', () => {
    const dedup = new Deduplicator()
    expect(seqs(dedup.fresh(batchOf([item(1), item(2)])))).toEqual([1, 2])
    expect(seqs(dedup.fresh(batchOf([item(7), item(9)])))).toEqual([7, 9])
    expect(dedup.fresh(batchOf([item(8)]))).toEqual([])
    expect(seqs(dedup.fresh(batchOf([item(9), item(10)])))).toEqual([10])
  })

  it('drops copies inside one batch', () => {
    const dedup = new Deduplicator()
    expect(seqs(dedup.fresh(batchOf([item(1), item(2), item(2), item(1), item(3)])))).toEqual([1, 2, 3])
  })

  it('moves no mark for an empty batch', () => {
    const dedup = new Deduplicator()
    expect(dedup.fresh(batchOf([]))).toEqual([])
    expect(seqs(dedup.fresh(batchOf([item(1)])))).toEqual([1])
  })

  it('keeps each fresh item as it came, fields included', () => {
    const dedup = new Deduplicator()
    const alarm = { ...item(1, 'alarm'), type: 'overheat', severity: 'major' }
    expect(dedup.fresh(batchOf([alarm]))).toEqual([alarm])
  })
})
