import type { MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { startCore, type TestCore } from '../../helpers/core'
import { apiEntity, errorsOf, pub, retainedOn, teEntity } from './bus-helpers'

// Entity registration, auto-registration and deregistration over MQTT (reference §1.3–§1.6).

let t: TestCore
let device: MqttClient

async function start(options: Parameters<typeof startCore>[0] = {}) {
  t = await startCore(options)
  device = await t.client()
}

afterEach(async () => {
  await t?.stop()
})

describe('explicit registration (§1.4)', () => {
  beforeEach(() => start())

  it('registers the verbatim examples of §1.4: main, services, nested child devices and @health', async () => {
    const examples: Array<[string, object]> = [
      ['te/device/main//', { '@type': 'device', type: 'Gateway' }],
      ['te/device/main//', { '@type': 'device', '@id': 'tedge001', type: 'Gateway' }],
      ['te/device/main/service/nodered', { '@type': 'service', name: 'nodered', type: 'systemd' }],
      [
        'te/component_namespace/service/nodered/instance-1',
        { '@type': 'service', '@parent': 'device/main//', name: 'nodered', type: 'systemd' },
      ],
      ['te/device/child01//', { '@type': 'child-device', name: 'child01', type: 'SmartHomeHub' }],
      [
        'te/device/nested_child01//',
        { '@type': 'child-device', '@parent': 'device/child01//', name: 'nested_child01' },
      ],
      [
        'te/device/child01/service/nodered',
        { '@type': 'service', '@parent': 'device/child01//', name: 'nodered', type: 'systemd' },
      ],
      ['te/device/my-device//', { '@health': 'device/my-device/service/foo', '@type': 'child-device' }],
    ]
    for (const [topic, payload] of examples) await pub(device, topic, payload, true)

    expect(await teEntity(t, 'device/main//')).toEqual({
      '@topic-id': 'device/main//',
      '@type': 'device',
      '@id': 'tedge001',
    })
    expect(await teEntity(t, 'device/main/service/nodered')).toEqual({
      '@topic-id': 'device/main/service/nodered',
      '@type': 'service',
      '@parent': 'device/main//',
    })
    expect(await teEntity(t, 'component_namespace/service/nodered/instance-1')).toMatchObject({
      '@type': 'service',
      '@parent': 'device/main//',
    })
    expect(await teEntity(t, 'device/child01//')).toEqual({
      '@topic-id': 'device/child01//',
      '@type': 'child-device',
      '@parent': 'device/main//',
    })
    expect(await teEntity(t, 'device/nested_child01//')).toMatchObject({ '@parent': 'device/child01//' })
    expect(await teEntity(t, 'device/child01/service/nodered')).toMatchObject({
      '@type': 'service',
      '@parent': 'device/child01//',
    })
    expect(await teEntity(t, 'device/my-device//')).toMatchObject({
      '@type': 'child-device',
      '@health': 'device/my-device/service/foo',
    })
    const detail = await t.json<{ children: string[] }>(apiEntity('device/child01//'))
    expect(detail.children.sort()).toEqual(['device/child01/service/nodered', 'device/nested_child01//'])
  })

  it('republishes every non-reserved registration key retained as te/<id>/twin/<key>', async () => {
    await pub(
      device,
      'te/device/child01//',
      { '@type': 'child-device', name: 'child01', type: 'SmartHomeHub' },
      true,
    )
    const twin = await retainedOn(t, 'te/device/child01///twin/+')
    expect(Object.fromEntries(twin)).toEqual({
      'te/device/child01///twin/name': '"child01"',
      'te/device/child01///twin/type': '"SmartHomeHub"',
    })
    const detail = await t.json<{ twin: Record<string, { value: unknown }> }>(apiEntity('device/child01//'))
    expect(detail.twin.name?.value).toBe('child01')
    expect(detail.twin.type?.value).toBe('SmartHomeHub')
  })

  it('accepts the short @parent form "device/child0" as device/child0// (§9)', async () => {
    await pub(device, 'te/device/child0//', { '@type': 'child-device' }, true)
    await pub(device, 'te/device/grandchild//', { '@type': 'child-device', '@parent': 'device/child0' }, true)
    expect(await teEntity(t, 'device/grandchild//')).toMatchObject({ '@parent': 'device/child0//' })
  })

  it('updates @parent by re-publishing the full definition', async () => {
    await pub(device, 'te/device/hub1//', { '@type': 'child-device' }, true)
    await pub(device, 'te/device/hub2//', { '@type': 'child-device' }, true)
    await pub(device, 'te/device/leaf//', { '@type': 'child-device', '@parent': 'device/hub1//' }, true)
    await pub(device, 'te/device/leaf//', { '@type': 'child-device', '@parent': 'device/hub2//' }, true)
    expect(await teEntity(t, 'device/leaf//')).toMatchObject({ '@parent': 'device/hub2//' })
  })

  it('registers a custom-scheme entity (te/factory01/hallA/packaging/belt001) and accepts its data (§1.3)', async () => {
    await pub(
      device,
      'te/factory01/hallA/packaging/belt001',
      { '@type': 'child-device', name: 'belt001' },
      true,
    )
    expect(await teEntity(t, 'factory01/hallA/packaging/belt001')).toEqual({
      '@topic-id': 'factory01/hallA/packaging/belt001',
      '@type': 'child-device',
      '@parent': 'device/main//',
    })
    await pub(device, 'te/factory01/hallA/packaging/belt001/m/drive', { speed: 1.5 })
    const detail = await t.json<{ series: Array<{ type: string; name: string; lastValue: number }> }>(
      apiEntity('factory01/hallA/packaging/belt001'),
    )
    expect(detail.series).toEqual([expect.objectContaining({ type: 'drive', name: 'speed', lastValue: 1.5 })])
  })

  it('puts a custom-scheme service without @parent under the main device (§1.3)', async () => {
    await pub(device, 'te/component_namespace/service/collector/instance-2', { '@type': 'service' }, true)
    expect(await teEntity(t, 'component_namespace/service/collector/instance-2')).toMatchObject({
      '@parent': 'device/main//',
    })
  })

  it('pads a short-id registration: te/packaging/belt001 is packaging/belt001// and takes events (§1.3)', async () => {
    await pub(device, 'te/packaging/belt001', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'packaging/belt001//')).toMatchObject({ '@topic-id': 'packaging/belt001//' })
    await pub(device, 'te/packaging/belt001///e/running_status', { text: 'running' })
    const events = await t.json<Array<{ type: string; text: string; entity: string }>>(
      `/api/v1/events?entity=${encodeURIComponent('packaging/belt001//')}`,
    )
    expect(events).toEqual([
      expect.objectContaining({ entity: 'packaging/belt001//', type: 'running_status', text: 'running' }),
    ])
  })

  it('holds a registration whose parent is unknown and applies it when the parent arrives (PendingEntityStore)', async () => {
    await pub(
      device,
      'te/device/nested//',
      { '@type': 'child-device', '@parent': 'device/hub//', name: 'nested' },
      true,
    )
    expect(await teEntity(t, 'device/nested//')).toBeUndefined()
    const status = await t.json<{ pendingRegistrations: string[] }>('/api/v1/status')
    expect(status.pendingRegistrations).toEqual(['device/nested//'])

    await pub(device, 'te/device/hub//', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'device/hub//')).toMatchObject({ '@parent': 'device/main//' })
    expect(await teEntity(t, 'device/nested//')).toMatchObject({ '@parent': 'device/hub//' })
    expect((await t.json<{ pendingRegistrations: string[] }>('/api/v1/status')).pendingRegistrations).toEqual(
      [],
    )
    expect((await retainedOn(t, 'te/device/nested///twin/name')).get('te/device/nested///twin/name')).toBe(
      '"nested"',
    )
  })
})

describe('auto-registration (§1.6)', () => {
  it('registers te/device/rpi1002///m/ data as a child of main with the exact retained message', async () => {
    await start()
    await pub(device, 'te/device/rpi1002///m/', { temperature: 25 })
    const registration = await retainedOn(t, 'te/device/rpi1002//')
    expect(JSON.parse(registration.get('te/device/rpi1002//') ?? 'null')).toEqual({
      '@type': 'child-device',
      '@parent': 'device/main//',
      name: 'rpi1002',
    })
    const detail = await t.json<{
      autoRegistered: boolean
      series: Array<{ type: string; name: string; lastValue: number }>
    }>(apiEntity('device/rpi1002//'))
    expect(detail.autoRegistered).toBe(true)
    expect(detail.series).toEqual([expect.objectContaining({ type: '', name: 'temperature', lastValue: 25 })])
  })

  it('registers a service and its device from status/health with the exact retained messages', async () => {
    await start()
    await pub(device, 'te/device/rpi1002/service/collectd/status/health', { status: 'up' }, true)
    const retained = await retainedOn(t, 'te/#')
    expect(JSON.parse(retained.get('te/device/rpi1002//') ?? 'null')).toEqual({
      '@type': 'child-device',
      '@parent': 'device/main//',
      name: 'rpi1002',
    })
    expect(JSON.parse(retained.get('te/device/rpi1002/service/collectd') ?? 'null')).toEqual({
      '@type': 'service',
      '@parent': 'device/rpi1002//',
      name: 'collectd',
    })
    const service = await t.json<{ parent: string; health: { status: string } }>(
      apiEntity('device/rpi1002/service/collectd'),
    )
    expect(service).toMatchObject({ parent: 'device/rpi1002//', health: { status: 'up' } })
  })

  it('does not auto-register custom-scheme ids; their data waits for an explicit registration', async () => {
    await start()
    await pub(device, 'te/factory01/hallB/line/x/m/env', { v: 1 })
    expect(await teEntity(t, 'factory01/hallB/line/x')).toBeUndefined()
    expect((await retainedOn(t, 'te/#')).has('te/factory01/hallB/line/x')).toBe(false)

    await pub(device, 'te/factory01/hallB/line/x', { '@type': 'child-device' }, true)
    await vi.waitFor(async () => {
      const detail = await t.json<{ series: Array<{ name: string; lastValue: number }> }>(
        apiEntity('factory01/hallB/line/x'),
      )
      expect(detail.series).toEqual([expect.objectContaining({ name: 'v', lastValue: 1 })])
    })
  })

  it('refuses, with the reason, to auto-register a service under a device registered as a service', async () => {
    await start()
    const errors = await errorsOf(t)
    await pub(device, 'te/device/b//', { '@type': 'service', '@parent': 'device/main//' }, true)
    await pub(device, 'te/device/b/service/x/e/door', { text: 'open' })
    expect(await errors.about('te/device/b/service/x/e/door')).toBe(
      'device/b/service/x is not auto-registered: parent device/b// is a service; only devices have children',
    )
    expect(await teEntity(t, 'device/b/service/x')).toBeUndefined()
  })

  it('does not auto-register an empty payload (a clear of something unknown)', async () => {
    await start()
    await pub(device, 'te/device/ghost///a/high', '', true)
    await pub(device, 'te/device/ghost///twin/name', '', true)
    expect(await teEntity(t, 'device/ghost//')).toBeUndefined()
  })

  it('does nothing of the kind with autoRegister: false (agent.entity_store.auto_register=false)', async () => {
    await start({ autoRegister: false })
    await pub(device, 'te/device/rpi1003///m/', { temperature: 21 })
    await pub(device, 'te/device/rpi1003/service/collectd/status/health', { status: 'up' }, true)
    expect(await teEntity(t, 'device/rpi1003//')).toBeUndefined()
    expect(await teEntity(t, 'device/rpi1003/service/collectd')).toBeUndefined()
    const retained = await retainedOn(t, 'te/#')
    // Only the client's own retained health message is there: no registration, no twin.
    expect([...retained.keys()].filter((topic) => topic.includes('rpi1003'))).toEqual([
      'te/device/rpi1003/service/collectd/status/health',
    ])

    await pub(device, 'te/device/rpi1003//', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'device/rpi1003//')).toMatchObject({ '@parent': 'device/main//' })
  })
})

describe('invalid registrations are rejected on te/errors while the core carries on', () => {
  beforeEach(() => start())

  it.each([
    [
      'a missing @type',
      'te/device/bad1//',
      { name: 'bad1' },
      /"@type" must be one of device, child-device, service/,
    ],
    ['an unknown @type', 'te/device/bad2//', { '@type': 'gateway' }, /"@type" must be one of/],
    ['"device" on a non-main id', 'te/device/bad3//', { '@type': 'device' }, /reserved for the main device/],
    ['a child-device on the main id', 'te/device/main//', { '@type': 'child-device' }, /is the main device/],
    [
      'an @parent with five segments',
      'te/device/bad4//',
      { '@type': 'child-device', '@parent': 'a/b/c/d/e' },
      /"@parent"/,
    ],
    [
      'a non-string @parent',
      'te/device/bad5//',
      { '@type': 'child-device', '@parent': 5 },
      /"@parent" must be a string/,
    ],
    ['a payload that is not JSON', 'te/device/bad6//', 'child-device', /invalid JSON/],
    ['a payload that is not an object', 'te/device/bad7//', '["child-device"]', /JSON object/],
  ])('rejects %s', async (_name, topic, payload, reason) => {
    const errors = await errorsOf(t)
    await pub(device, topic, payload as string | object, true)
    expect(await errors.about(topic)).toMatch(reason)
    const id = topic.slice('te/'.length)
    if (id !== 'device/main//') expect(await teEntity(t, id)).toBeUndefined()
    expect(await teEntity(t, 'device/main//')).toMatchObject({ '@type': 'device' })

    await pub(device, 'te/device/good//', { '@type': 'child-device' }, true)
    expect(await teEntity(t, 'device/good//')).toMatchObject({ '@type': 'child-device' })
  })

  it('rejects a change of @type or @id and keeps the entity as it was (§1.4: immutable)', async () => {
    const errors = await errorsOf(t)
    await pub(device, 'te/device/c1//', { '@type': 'child-device', '@id': 'ext-c1' }, true)
    await pub(device, 'te/device/c1//', { '@type': 'service' }, true)
    expect(await errors.about('te/device/c1//')).toMatch(/"@type" of device\/c1\/\/ cannot change/)
    await pub(device, 'te/device/c2//', { '@type': 'child-device', '@id': 'ext-c2' }, true)
    await pub(device, 'te/device/c2//', { '@type': 'child-device', '@id': 'other' }, true)
    expect(await errors.about('te/device/c2//')).toMatch(/"@id" of device\/c2\/\/ cannot change/)
    expect(await teEntity(t, 'device/c1//')).toEqual({
      '@topic-id': 'device/c1//',
      '@type': 'child-device',
      '@parent': 'device/main//',
      '@id': 'ext-c1',
    })
    expect(await teEntity(t, 'device/c2//')).toMatchObject({ '@id': 'ext-c2' })
  })
})

describe('deregistration by an empty retained payload (§1.5)', () => {
  beforeEach(() => start())

  const inSubtree = (topic: string) =>
    topic.startsWith('te/device/child01/') || topic.startsWith('te/device/nested/')

  it('removes the entity and its descendants and clears every retained topic of the subtree', async () => {
    const retained: Array<[string, object]> = [
      ['te/device/child01//', { '@type': 'child-device', name: 'child01' }],
      ['te/device/nested//', { '@type': 'child-device', '@parent': 'device/child01//', name: 'nested' }],
      ['te/device/child01/service/nodered', { '@type': 'service', name: 'nodered' }],
      ['te/device/child02//', { '@type': 'child-device', name: 'child02' }],
      ['te/device/child01///twin/device_OS', { family: 'Debian', version: '11' }],
      ['te/device/child01///m/env/meta', { temperature: { unit: '°C' } }],
      ['te/device/child01///e/login/meta', { description: 'logins' }],
      ['te/device/child01///a/high/meta', { description: 'too hot' }],
      ['te/device/child01///a/high', { text: 'hot', severity: 'major' }],
      ['te/device/child01///cmd/restart', {}],
      ['te/device/child01///cmd/restart/c8y-mapper-1', { status: 'init' }],
      ['te/device/child01/service/nodered/status/health', { status: 'up' }],
      ['te/device/child01/service/nodered/config', { 'http.port': 1880 }],
      ['te/device/nested///twin/location', { x: 1 }],
      ['te/device/nested///a/low', { text: 'cold' }],
      ['te/device/child02///twin/location', { x: 2 }],
    ]
    for (const [topic, payload] of retained) await pub(device, topic, payload, true)
    await pub(device, 'te/device/nested///m/env', { temperature: 20 })
    const before = await retainedOn(t, 'te/#')
    expect([...before.keys()].filter(inSubtree).length).toBeGreaterThanOrEqual(14)

    await pub(device, 'te/device/child01//', '', true)

    for (const id of ['device/child01//', 'device/nested//', 'device/child01/service/nodered']) {
      expect(await teEntity(t, id)).toBeUndefined()
      expect((await t.http(apiEntity(id))).status).toBe(404)
    }
    expect(await teEntity(t, 'device/child02//')).toMatchObject({ '@parent': 'device/main//' })
    expect(await t.json<unknown[]>('/api/v1/alarms')).toEqual([])

    await vi.waitFor(async () => {
      expect((await t.core.parts.bus.retained('te/#')).map((m) => m.topic).filter(inSubtree)).toEqual([])
    })
    // What a connector connecting now sees: nothing of the subtree, the sibling untouched.
    const after = await retainedOn(t, 'te/#')
    expect([...after.keys()].filter(inSubtree)).toEqual([])
    expect(after.get('te/device/child02///twin/location')).toBe('{"x":2}')
    expect(JSON.parse(after.get('te/device/child02//') ?? 'null')).toMatchObject({ '@type': 'child-device' })
  })

  it('never removes the main device', async () => {
    await pub(device, 'te/device/main//', '', true)
    expect(await teEntity(t, 'device/main//')).toMatchObject({ '@type': 'device' })
    expect(await teEntity(t, 'device/main/service/edgetwin')).toMatchObject({ '@type': 'service' })
  })
})
