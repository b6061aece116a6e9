import { afterEach, describe, expect, it, vi } from 'vitest'
import { PAGE_BYTES } from '../../../src-main/core/api/paging'
import type {
  AlarmView,
  AuditEntryView,
  EntitySummary,
  EventView,
  OperationView,
} from '../../../src-main/core/api/types'
import { startCore, type TestCore } from '../../helpers/core'
import { type FloodMessage, publishAll } from '../../helpers/flood'
import { nextLink, readAllPages } from '../../helpers/pages'
import { pub } from '../conformance/bus-helpers'

// Every list of /api/v1 pages: at most `limit` rows and about PAGE_BYTES of JSON, with the next page
// in a Link header (rel="next") that keeps the query's filters. Arrays stay arrays.

let t: TestCore
afterEach(async () => {
  await t?.stop()
})

const read = <T>(first: string) => readAllPages<T>((url) => t.http(url), first)
const ids = (rows: Array<{ id: number | string }>) => rows.map((row) => row.id)
/** A payload of about `bytes` bytes of JSON. */
const blob = (bytes: number, seed: number) => String(seed).padEnd(bytes, 'x')

describe('entities', () => {
  it('pages the registry in registration order, keeps the filters, and ends without a Link', async () => {
    t = await startCore()
    // One client: registration order is publication order.
    const clients = [await t.client()]
    const messages: FloodMessage[] = []
    for (let k = 0; k < 2_500; k++) {
      messages.push({
        topic: `te/device/p${k}//`,
        payload: JSON.stringify({ '@type': 'child-device', name: `Press ${k}` }),
        retain: true,
      })
      if (k % 10 === 0)
        messages.push({
          topic: `te/device/p${k}/service/plc`,
          payload: JSON.stringify({ '@type': 'service' }),
          retain: true,
        })
    }
    await publishAll(clients, messages)

    const first = await t.http('/api/v1/entities')
    const firstRows = (await first.json()) as EntitySummary[]
    expect(firstRows).toHaveLength(1000)
    expect(nextLink(first.headers.get('link'))).toMatch(/^\/api\/v1\/entities\?cursor=\d+$/)

    const all = await read<EntitySummary>('/api/v1/entities?limit=700')
    expect(all.rows).toHaveLength(2 + 2_500 + 250)
    expect(new Set(ids(all.rows)).size).toBe(all.rows.length)
    expect(all.urls).toHaveLength(4)
    expect(all.rows.slice(0, 3).map((e) => e.id)).toEqual([
      'device/main//',
      'device/main/service/edgetwin',
      'device/p0//',
    ])
    expect(all.rows.at(-1)?.id).toBe('device/p2499//')

    const services = await read<EntitySummary>('/api/v1/entities?type=service&limit=100')
    expect(services.rows.map((e) => e.id)).toEqual([
      'device/main/service/edgetwin',
      ...Array.from({ length: 250 }, (_, i) => `device/p${i * 10}/service/plc`),
    ])
    expect(services.urls[1]).toMatch(/type=service/)
    const named = await read<EntitySummary>('/api/v1/entities?q=press%2024&limit=3')
    expect(named.rows.map((e) => e.name)).toEqual([
      'Press 24',
      ...Array.from({ length: 10 }, (_, i) => `Press 24${i}`),
      ...Array.from({ length: 100 }, (_, i) => `Press ${2400 + i}`),
    ])
    const children = await read<EntitySummary>(
      `/api/v1/entities?parent=${encodeURIComponent('device/p20//')}`,
    )
    expect(children.rows.map((e) => e.id)).toEqual(['device/p20/service/plc'])
  })

  it('answers 400 for a cursor it did not give and for a limit over the maximum', async () => {
    t = await startCore()
    for (const query of ['cursor=abc', 'cursor=1_2', 'cursor=', 'limit=10001', 'limit=0']) {
      const response = await t.http(`/api/v1/entities?${query}`)
      expect(response.status, query).toBe(400)
      expect(await response.json()).toEqual({ error: expect.any(String) })
    }
    for (const list of ['events', 'alarms', 'operations', 'audit']) {
      expect((await t.http(`/api/v1/${list}?cursor=x`)).status, list).toBe(400)
      expect((await t.http(`/api/v1/${list}?limit=10001`)).status, list).toBe(400)
    }
  })
})

// Larger than the broker's defaults on purpose: what is bounded here is the answer, whatever the
// broker was set to let through.
const bigMessages = { mqttLimits: { maxPacketSize: 1024 * 1024, maxRetainedSize: 1024 * 1024 } }

describe('events and alarms with large payloads', () => {
  it('stops a page of events at the byte budget and continues after the last event sent', async () => {
    t = await startCore(bigMessages)
    const device = await t.client()
    await pub(device, 'te/device/camera//', { '@type': 'child-device' }, true)
    // Twelve events of 200 kB, four of them at the same instant: the cursor must tell them apart.
    const time = (k: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, Math.max(k, 3))).toISOString()
    for (let k = 0; k < 12; k++)
      await pub(device, 'te/device/camera///e/frame', {
        text: `frame ${k}`,
        time: time(k),
        image: blob(200_000, k),
      })
    const entity = encodeURIComponent('device/camera//')
    await vi.waitFor(async () =>
      expect(await t.json<EventView[]>(`/api/v1/events?entity=${entity}&limit=1&type=frame`)).toHaveLength(1),
    )

    const pages = await read<EventView>(`/api/v1/events?entity=${entity}&type=frame`)
    // Newest first; the four at the same instant by id, newest first.
    expect(pages.rows.map((e) => e.text)).toEqual(Array.from({ length: 12 }, (_, k) => `frame ${11 - k}`))
    expect(new Set(pages.rows.map((e) => e.id)).size).toBe(12)
    const keys = pages.rows.map((e) => [e.time, e.id] as const)
    for (let i = 1; i < keys.length; i++) {
      const [time0, id0] = keys[i - 1] as readonly [number, number]
      const [time1, id1] = keys[i] as readonly [number, number]
      expect(time0 > time1 || (time0 === time1 && id0 > id1)).toBe(true)
    }
    expect(pages.rows.map((e) => (e.payload as { image: string }).image.length)).toEqual(
      Array(12).fill(200_000),
    )
    expect(pages.urls.length).toBeGreaterThanOrEqual(3)
    for (const size of pages.sizes) expect(size).toBeLessThanOrEqual(PAGE_BYTES)
    expect(pages.urls[1]).toContain('type=frame')
  })

  it('pages open alarms (from memory) and cleared ones (from the database) in one order, by bytes', async () => {
    t = await startCore(bigMessages)
    const device = await t.client()
    await pub(device, 'te/device/oven//', { '@type': 'child-device' }, true)
    for (let k = 0; k < 10; k++) {
      await pub(
        device,
        `te/device/oven///a/zone${k}`,
        { text: `zone ${k}`, severity: 'major', detail: blob(150_000, k) },
        true,
      )
      // Every other one is cleared by an empty retained message.
      if (k % 2 === 0) await pub(device, `te/device/oven///a/zone${k}`, '', true)
    }
    const everything = 'status=active,acknowledged,cleared'
    await vi.waitFor(async () => {
      const cleared = await t.json<AlarmView[]>('/api/v1/alarms?status=cleared&limit=10')
      expect(cleared).toHaveLength(5)
    })
    const pages = await read<AlarmView>(`/api/v1/alarms?${everything}`)
    expect(pages.rows).toHaveLength(10)
    expect(pages.urls.length).toBeGreaterThanOrEqual(2)
    for (const size of pages.sizes) expect(size).toBeLessThanOrEqual(PAGE_BYTES)
    const byLimit = await read<AlarmView>(`/api/v1/alarms?${everything}&limit=3`)
    expect(ids(byLimit.rows)).toEqual(ids(pages.rows))
    for (let i = 1; i < pages.rows.length; i++) {
      const a = pages.rows[i - 1] as AlarmView
      const b = pages.rows[i] as AlarmView
      expect(a.lastTime > b.lastTime || (a.lastTime === b.lastTime && a.id > b.id)).toBe(true)
    }
    expect(
      pages.rows
        .filter((a) => a.status === 'cleared')
        .map((a) => a.type)
        .sort(),
    ).toEqual(['zone0', 'zone2', 'zone4', 'zone6', 'zone8'])
  })
})

describe('audit and operations', () => {
  it('pages the audit trail newest first; the export still holds the newest `limit`, oldest first', async () => {
    t = await startCore()
    const main = encodeURIComponent('device/main//')
    for (let k = 0; k < 25; k++) {
      const edit = await t.http(`/api/v1/entities/${main}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ twin: { step: k } }),
      })
      expect(edit.status).toBe(202)
    }
    const pages = await read<AuditEntryView>('/api/v1/audit?limit=10')
    expect(pages.urls).toHaveLength(3)
    expect(pages.rows.map((e) => (e.after as { step: number }).step)).toEqual(
      Array.from({ length: 25 }, (_, k) => 24 - k),
    )
    const exported = await t.http('/api/v1/audit/export?format=json&limit=5')
    const entries = (await exported.json()) as AuditEntryView[]
    expect(entries.map((e) => (e.after as { step: number }).step)).toEqual([20, 21, 22, 23, 24])
    const csv = await t.http(`/api/v1/audit/export?format=csv&entity=${main}`)
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(26)
  })

  it('pages operations with the cursor of the Link header, as `before` did', async () => {
    t = await startCore()
    const device = await t.client()
    await pub(device, 'te/device/x//', { '@type': 'child-device' }, true)
    for (let k = 0; k < 7; k++) await pub(device, `te/device/x///cmd/restart/c${k}`, { status: 'init' }, true)
    const entity = encodeURIComponent('device/x//')
    await vi.waitFor(async () =>
      expect(await t.json<OperationView[]>(`/api/v1/operations?entity=${entity}`)).toHaveLength(7),
    )
    const pages = await read<OperationView>(`/api/v1/operations?entity=${entity}&limit=3`)
    expect(pages.urls).toHaveLength(3)
    expect(pages.rows.map((o) => o.cmdId)).toEqual(['c6', 'c5', 'c4', 'c3', 'c2', 'c1', 'c0'])
    const last = pages.rows[2] as OperationView
    expect(pages.urls[1]).toBe(`/api/v1/operations?entity=${entity}&limit=3&cursor=${last.id}`)
  })
})
