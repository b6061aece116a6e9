import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EntitySummary, StatusView } from '../../../src-main/core/api/types'
import { startCore, type TestCore } from '../../helpers/core'
import { readAllPages } from '../../helpers/pages'
import { errorsOf, pub, teEntity } from '../conformance/bus-helpers'

// The registry is bounded: entities one MQTT client may auto-register, entities in total, and the
// length of an entity id and of each of its segments. What goes beyond is refused with a reason on
// te/errors (or a 4xx over HTTP); nothing else changes.

let t: TestCore
afterEach(async () => {
  await t?.stop()
})

const entityCount = async () => (await t.json<StatusView>('/api/v1/status')).entities
const measurement = { temperature: 21 }

describe('auto-registered entities per MQTT client', () => {
  it('refuses past the quota of one client, not another client, and a deregistration gives a place back', async () => {
    t = await startCore({ maxAutoRegisteredPerClient: 3 })
    const errors = await errorsOf(t)
    const bridge = await t.client({ clientId: 'modbus-bridge' })
    const other = await t.client({ clientId: 'opcua-bridge' })
    for (const n of [1, 2, 3]) await pub(bridge, `te/device/a${n}///m/env`, measurement)
    await pub(bridge, 'te/device/a4///m/env', measurement)
    expect(await errors.about('te/device/a4///m/env')).toBe(
      'device/a4// is not auto-registered: this MQTT client has auto-registered 3 entities, the most one client may; register entities explicitly',
    )
    expect(await teEntity(t, 'device/a4//')).toBeUndefined()

    await pub(other, 'te/device/b1///m/env', measurement)
    expect(await teEntity(t, 'device/b1//')).toMatchObject({ '@parent': 'device/main//' })
    // Explicit registrations are the connector's own decision: only the total bounds them.
    await pub(bridge, 'te/device/a5//', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'device/a5//')).toBeDefined()

    await pub(bridge, 'te/device/a1//', '', true)
    await pub(bridge, 'te/device/a4///m/env', measurement)
    expect(await teEntity(t, 'device/a4//')).toMatchObject({ '@parent': 'device/main//' })
  })

  it('a service on an unknown device counts as two: the device and the service', async () => {
    t = await startCore({ maxAutoRegisteredPerClient: 3 })
    const errors = await errorsOf(t)
    const bridge = await t.client({ clientId: 'service-bridge' })
    await pub(bridge, 'te/device/c1/service/app/m/env', measurement)
    expect(await teEntity(t, 'device/c1//')).toBeDefined()
    expect(await teEntity(t, 'device/c1/service/app')).toBeDefined()
    await pub(bridge, 'te/device/c2/service/app/m/env', measurement)
    expect(await errors.about('te/device/c2/service/app/m/env')).toMatch(/auto-registered 2 entities/)
    expect(await teEntity(t, 'device/c2//')).toBeUndefined()
    await pub(bridge, 'te/device/c2///m/env', measurement)
    expect(await teEntity(t, 'device/c2//')).toBeDefined()
  })
})

describe('entities in total', () => {
  it('refuses a new entity however it comes once the registry is full, and still updates the ones in it', async () => {
    t = await startCore({ maxEntities: 5 })
    const errors = await errorsOf(t)
    const device = await t.client()
    expect(await entityCount()).toBe(2)
    await pub(device, 'te/device/d1//', { '@type': 'child-device' }, true)
    await pub(device, 'te/device/d2///m/env', measurement)
    await pub(device, 'te/device/d3//', { '@type': 'child-device', '@parent': 'device/d4//' }, true)
    await pub(device, 'te/device/d4//', { '@type': 'child-device' }, true)
    expect(await entityCount()).toBe(5)
    // d3 waited for d4; once d4 filled the registry, d3 could not be applied.
    expect(await errors.about('te/device/d3//')).toBe(
      'held registration refused: the entity registry is full: 5 entities registered, at most 5',
    )

    await pub(device, 'te/device/d5//', { '@type': 'child-device' }, true)
    expect(await errors.about('te/device/d5//')).toBe(
      'the entity registry is full: 5 entities registered, at most 5',
    )
    await pub(device, 'te/device/d6///m/env', measurement)
    expect(await errors.about('te/device/d6///m/env')).toMatch(
      /^device\/d6\/\/ is not auto-registered: the entity registry is full/,
    )
    const post = await t.http('/te/v1/entities', {
      auth: false,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ '@topic-id': 'device/d7//', '@type': 'child-device' }),
    })
    expect(post.status).toBe(409)
    expect(await post.json()).toEqual({
      error: 'the entity registry is full: 5 entities registered, at most 5',
    })
    expect(await entityCount()).toBe(5)

    // What is registered still changes: a new name, a move, data.
    await pub(
      device,
      'te/device/d1//',
      { '@type': 'child-device', '@parent': 'device/d4//', name: 'D1' },
      true,
    )
    expect(await teEntity(t, 'device/d1//')).toMatchObject({ '@parent': 'device/d4//' })
    await pub(device, 'te/device/d2///m/env', measurement)
    // Room again after a deregistration.
    await pub(device, 'te/device/d2//', '', true)
    await pub(device, 'te/device/d5//', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'device/d5//')).toBeDefined()
  })
})

describe('data for an entity not registered yet', () => {
  it('is held up to 16 MiB in all, refused beyond with the reason, and replayed when the entity registers', async () => {
    // Messages larger than the broker's default limit on purpose: the held data is bounded by itself.
    t = await startCore({ mqttLimits: { maxPacketSize: 1024 * 1024 } })
    const errors = await errorsOf(t)
    const device = await t.client()
    // A custom-scheme id: never auto-registered, so its data waits for a registration.
    const topic = 'te/plant/line1/press/p1/e/cycle'
    for (let k = 0; k < 60; k++) await pub(device, topic, { text: `cycle ${k}`, blob: 'x'.repeat(300_000) })
    expect(await errors.about(topic)).toBe(
      'entity "plant/line1/press/p1" is not registered (and the data held for unregistered entities is at its limit)',
    )
    await pub(device, 'te/plant/line1/press/p1', { '@type': 'child-device' }, true)
    const entity = encodeURIComponent('plant/line1/press/p1')
    // Every event is either replayed or was refused; about three such events fit in a page.
    await vi.waitFor(async () => {
      const events = await readAllPages((url) => t.http(url), `/api/v1/events?entity=${entity}`)
      expect(events.rows.length).toBeGreaterThanOrEqual(50)
      expect(events.rows.length + errors.count).toBe(60)
    }, 15_000)
  })
})

describe('length of entity ids', () => {
  const segment = (bytes: number) => 'x'.repeat(bytes)

  it('takes segments of up to 128 bytes and ids of up to 256, and refuses longer ones with the reason', async () => {
    t = await startCore()
    const errors = await errorsOf(t)
    const device = await t.client()
    const longest = `device/${segment(128)}//`
    await pub(device, `te/${longest}/m/env`, measurement)
    expect(await teEntity(t, longest)).toBeDefined()
    // Bytes, not characters: 43 three-byte characters are 129 bytes.
    await pub(device, `te/device/${'€'.repeat(43)}///m/env`, measurement)
    expect(await errors.about(`te/device/${'€'.repeat(43)}///m/env`)).toBe(
      'an entity topic id segment is 129 bytes long; at most 128 are allowed',
    )
    const twoLong = `device/${segment(120)}/service/${segment(121)}`
    await pub(device, `te/${twoLong}/m/env`, measurement)
    expect(await errors.about(`te/${twoLong}/m/env`)).toBe(
      'entity topic id is 257 bytes long; at most 256 are allowed',
    )
    const huge = `te/device/${segment(64_000)}///m/env`
    await pub(device, huge, measurement)
    expect(await errors.about(huge)).toBe('entity topic id is 64009 bytes long; at most 256 are allowed')
    await pub(
      device,
      'te/device/child//',
      { '@type': 'child-device', '@parent': `device/${segment(200)}//` },
      true,
    )
    expect(await errors.about('te/device/child//')).toBe(
      '"@parent": an entity topic id segment is 200 bytes long; at most 128 are allowed',
    )

    const entities = await t.http('/api/v1/entities')
    expect(entities.status).toBe(200)
    expect(((await entities.json()) as EntitySummary[]).map((e) => e.id)).toEqual([
      'device/main//',
      'device/main/service/edgetwin',
      longest,
    ])
    // The longest id is addressed as one path segment, however long percent-encoding makes it.
    const euro = `device/${'€'.repeat(42)}//`
    await pub(device, `te/${euro}/m/env`, measurement)
    const detail = await t.http(`/api/v1/entities/${encodeURIComponent(euro)}`)
    expect(detail.status).toBe(200)
    expect(await detail.json()).toMatchObject({ id: euro })
    const api = await t.http(`/api/v1/entities/${encodeURIComponent(`device/${segment(300)}//`)}`)
    expect(api.status).toBe(400)
    expect(await api.json()).toEqual({
      error: 'entity topic id is 309 bytes long; at most 256 are allowed',
    })
    const te = await t.http(`/te/v1/entities/device/${segment(300)}`, { auth: false })
    expect(te.status).toBe(400)
  })
})
