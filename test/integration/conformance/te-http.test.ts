import http from 'node:http'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { collect, startCore, type TestCore } from '../../helpers/core'
import { pub, retainedOn } from './bus-helpers'

// thin-edge.io's HTTP API: the entity store /te/v1/entities (reference §1.5, §1.8) and the file
// transfer service /te/v1/files (§3.3), called as a connector does: from loopback, without a token.

let t: TestCore
let device: MqttClient

beforeAll(async () => {
  t = await startCore()
  device = await t.client()
})
afterAll(() => t.stop())

const te = (path: string, init: RequestInit = {}) => t.http(path, { ...init, auth: false })
const send = (method: string, path: string, body: unknown) =>
  te(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
const sendRaw = (method: string, path: string, body: string) =>
  te(path, { method, headers: { 'content-type': 'application/json' }, body })
const post = (body: unknown) => send('POST', '/te/v1/entities', body)
const list = async (query = '') => {
  const response = await te(`/te/v1/entities${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Array<Record<string, string>>
}
const ids = (entities: Array<Record<string, string>>) => entities.map((e) => e['@topic-id']).sort()

async function expectError(response: Response, status: number, message?: RegExp) {
  expect(response.status).toBe(status)
  const body = (await response.json()) as { error: string }
  expect(body).toEqual({ error: expect.any(String) })
  if (message) expect(body.error).toMatch(message)
}

describe('/te/v1/entities: create, read, list (§1.8)', () => {
  it('creates an entity: 201 {"@topic-id"}, readable with or without trailing slashes', async () => {
    const response = await post({ '@topic-id': 'device/child01//', '@type': 'child-device' })
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ '@topic-id': 'device/child01//' })
    const expected = { '@topic-id': 'device/child01//', '@parent': 'device/main//', '@type': 'child-device' }
    for (const path of ['device/child01//', 'device/child01/', 'device/child01']) {
      const get = await te(`/te/v1/entities/${path}`)
      expect(get.status).toBe(200)
      expect(await get.json()).toEqual(expected)
    }
  })

  it('pads a short @topic-id and answers with the full one', async () => {
    const response = await post({ '@topic-id': 'device/child0', '@type': 'child-device' })
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ '@topic-id': 'device/child0//' })
  })

  it('mirrors a POST on MQTT as a retained registration, with its twin keys', async () => {
    const response = await post({
      '@topic-id': 'device/mirrored//',
      '@type': 'child-device',
      name: 'Mirrored',
    })
    expect(response.status).toBe(201)
    const retained = await retainedOn(t, 'te/device/mirrored///#')
    expect(JSON.parse(retained.get('te/device/mirrored//') ?? 'null')).toMatchObject({
      '@type': 'child-device',
      name: 'Mirrored',
    })
    expect(retained.get('te/device/mirrored///twin/name')).toBe('"Mirrored"')
  })

  it('answers 409 for an entity already registered', async () => {
    await post({ '@topic-id': 'device/twice//', '@type': 'child-device' })
    await expectError(
      await post({ '@topic-id': 'device/twice//', '@type': 'child-device' }),
      409,
      /already registered/,
    )
  })

  it('answers 400 for an unknown parent', async () => {
    const response = await post({
      '@topic-id': 'device/orphan//',
      '@type': 'child-device',
      '@parent': 'device/nowhere//',
    })
    await expectError(response, 400, /device\/nowhere\/\//)
    expect((await te('/te/v1/entities/device/orphan//')).status).toBe(404)
  })

  it.each([
    ['no @topic-id', { '@type': 'child-device' }],
    ['no @type', { '@topic-id': 'device/notype//' }],
    ['an unknown @type', { '@topic-id': 'device/badtype//', '@type': 'gateway' }],
    ['"device" on a child id', { '@topic-id': 'device/fake//', '@type': 'device' }],
    ['an @topic-id with five segments', { '@topic-id': 'device/a/service/b/c', '@type': 'service' }],
    ['an @topic-id with a wildcard', { '@topic-id': 'device/+//', '@type': 'child-device' }],
    ['a non-string @topic-id', { '@topic-id': 5, '@type': 'child-device' }],
    ['a non-string @parent', { '@topic-id': 'device/p//', '@type': 'child-device', '@parent': 7 }],
    ['a body that is not an object', ['device/x//']],
  ])('answers 400 for %s', async (_name, body) => {
    await expectError(await post(body), 400)
  })

  it('answers 404 with {"error"} for an unknown entity', async () => {
    await expectError(await te('/te/v1/entities/device/unknown//'), 404, /device\/unknown\/\//)
  })

  it('lists entities, filtered by root, parent or type; root and parent together are refused', async () => {
    for (const [topicId, type, parent] of [
      ['device/plant//', 'child-device', undefined],
      ['device/line//', 'child-device', 'device/plant//'],
      ['device/cell//', 'child-device', 'device/line//'],
      ['device/plant/service/historian', 'service', 'device/plant//'],
    ] as const) {
      const response = await post({
        '@topic-id': topicId,
        '@type': type,
        ...(parent ? { '@parent': parent } : {}),
      })
      expect(response.status).toBe(201)
    }
    const all = await list()
    expect(ids(all)).toEqual(
      expect.arrayContaining([
        'device/main//',
        'device/main/service/edgetwin',
        'device/plant//',
        'device/cell//',
      ]),
    )
    expect(all.find((e) => e['@topic-id'] === 'device/cell//')).toEqual({
      '@topic-id': 'device/cell//',
      '@parent': 'device/line//',
      '@type': 'child-device',
    })
    expect(ids(await list('?root=device/plant//'))).toEqual([
      'device/cell//',
      'device/line//',
      'device/plant//',
      'device/plant/service/historian',
    ])
    expect(ids(await list('?parent=device/plant//'))).toEqual([
      'device/line//',
      'device/plant/service/historian',
    ])
    expect(ids(await list('?root=device/plant//&type=service'))).toEqual(['device/plant/service/historian'])
    expect(ids(await list('?type=main'))).toEqual(['device/main//'])
    const children = await list('?type=child-device')
    expect(children.every((e) => e['@type'] === 'child-device')).toBe(true)
    expect(ids(children)).toEqual(
      expect.arrayContaining(['device/plant//', 'device/line//', 'device/cell//']),
    )
    await expectError(await te('/te/v1/entities?root=device/plant//&parent=device/plant//'), 400)
    await expectError(await te('/te/v1/entities?type=gateway'), 400)
  })
})

describe('/te/v1/entities: update and delete (§1.5, §1.8)', () => {
  it('PATCHes only @parent and @health, mirrored on MQTT; other fields are 400 "unknown field"', async () => {
    await post({ '@topic-id': 'device/hubA//', '@type': 'child-device' })
    await post({ '@topic-id': 'device/hubB//', '@type': 'child-device' })
    await post({ '@topic-id': 'device/mover//', '@type': 'child-device', '@parent': 'device/hubA//' })

    const moved = await send('PATCH', '/te/v1/entities/device/mover//', { '@parent': 'device/hubB//' })
    expect(moved.status).toBe(200)
    expect(await te('/te/v1/entities/device/mover').then((r) => r.json())).toMatchObject({
      '@parent': 'device/hubB//',
    })
    const health = await send('PATCH', '/te/v1/entities/device/mover//', {
      '@health': 'device/mover/service/agent',
    })
    expect(health.status).toBe(200)
    expect(await te('/te/v1/entities/device/mover//').then((r) => r.json())).toMatchObject({
      '@parent': 'device/hubB//',
      '@health': 'device/mover/service/agent',
    })
    const retained = await retainedOn(t, 'te/device/mover//')
    expect(JSON.parse(retained.get('te/device/mover//') ?? 'null')).toMatchObject({
      '@type': 'child-device',
      '@parent': 'device/hubB//',
      '@health': 'device/mover/service/agent',
    })

    await expectError(
      await send('PATCH', '/te/v1/entities/device/mover//', { name: 'x' }),
      400,
      /unknown field/,
    )
    await expectError(
      await send('PATCH', '/te/v1/entities/device/mover//', { '@type': 'service' }),
      400,
      /unknown field/,
    )
    await expectError(
      await send('PATCH', '/te/v1/entities/device/mover//', { '@parent': 'device/none//' }),
      400,
    )
    await expectError(
      await send('PATCH', '/te/v1/entities/device/none//', { '@parent': 'device/hubA//' }),
      404,
    )
  })

  it('DELETEs an entity tree: 200 with the removed entities, mirrored as empty retained messages, then 204', async () => {
    await post({ '@topic-id': 'device/child0x//', '@type': 'child-device' })
    await post({ '@topic-id': 'device/child00x//', '@type': 'child-device', '@parent': 'device/child0x//' })
    await post({ '@topic-id': 'device/child0x/service/service0', '@type': 'service' })
    await send('PUT', '/te/v1/entities/device/child00x///twin/location', 'hall 3')
    const watcher = await t.client()
    const bus = await collect(watcher, 'te/device/#')
    await bus.next((m) => m.topic === 'te/device/child0x//' && m.retain)

    const response = await te('/te/v1/entities/device/child0x//', { method: 'DELETE' })
    expect(response.status).toBe(200)
    const removed = (await response.json()) as Array<Record<string, string>>
    expect(removed).toHaveLength(3)
    expect(removed).toEqual(
      expect.arrayContaining([
        { '@topic-id': 'device/child0x//', '@parent': 'device/main//', '@type': 'child-device' },
        { '@topic-id': 'device/child00x//', '@parent': 'device/child0x//', '@type': 'child-device' },
        { '@topic-id': 'device/child0x/service/service0', '@parent': 'device/child0x//', '@type': 'service' },
      ]),
    )
    for (const topic of [
      'te/device/child0x//',
      'te/device/child00x//',
      'te/device/child0x/service/service0',
    ]) {
      await bus.next((m) => m.topic === topic && m.payload === '')
    }
    await bus.next((m) => m.topic === 'te/device/child00x///twin/location' && m.payload === '')
    expect((await te('/te/v1/entities/device/child0x//')).status).toBe(404)
    expect((await te('/te/v1/entities/device/child00x//')).status).toBe(404)
    await vi.waitFor(async () => {
      const left = (await t.core.parts.bus.retained('te/#')).map((m) => m.topic)
      expect(
        left.filter(
          (topic) => topic.startsWith('te/device/child0x/') || topic.startsWith('te/device/child00x/'),
        ),
      ).toEqual([])
    })

    const again = await te('/te/v1/entities/device/child0x//', { method: 'DELETE' })
    expect(again.status).toBe(204)
    expect(await again.text()).toBe('')
  })

  it('sees entities registered over MQTT (MQTT HTTP interoperability)', async () => {
    await pub(device, 'te/device/child_abc//', { '@type': 'child-device' }, true)
    expect(await te('/te/v1/entities/device/child_abc//').then((r) => r.json())).toEqual({
      '@topic-id': 'device/child_abc//',
      '@parent': 'device/main//',
      '@type': 'child-device',
    })
  })
})

describe('/te/v1/entities/{id}/twin (§1.8, Robot "Entity twin apis")', () => {
  const twin = '/te/v1/entities/device/twinned///twin'

  beforeAll(async () => {
    expect((await post({ '@topic-id': 'device/twinned//', '@type': 'child-device' })).status).toBe(201)
  })

  it('PUTs, GETs and DELETEs one key, mirrored as retained twin/<key>; DELETE is idempotent', async () => {
    const put = await sendRaw('PUT', `${twin}/maintenance_window`, '5')
    expect(put.status).toBe(200)
    expect(await put.json()).toBe(5)
    expect(
      (await retainedOn(t, 'te/device/twinned///twin/maintenance_window')).get(
        'te/device/twinned///twin/maintenance_window',
      ),
    ).toBe('5')
    const get = await te(`${twin}/maintenance_window`)
    expect(get.status).toBe(200)
    expect(await get.json()).toBe(5)

    expect((await te(`${twin}/maintenance_window`, { method: 'DELETE' })).status).toBe(204)
    expect(
      (await retainedOn(t, 'te/device/twinned///twin/#')).has('te/device/twinned///twin/maintenance_window'),
    ).toBe(false)
    expect((await te(`${twin}/maintenance_window`, { method: 'DELETE' })).status).toBe(204)
    await expectError(await te(`${twin}/maintenance_window`), 404)
  })

  it('PUTs the whole map, which replaces it; null deletes; mirrored on MQTT', async () => {
    const first = { maintainer: 'John Doe', maintenance_mode: true, maintenance_window: 5 }
    const put = await send('PUT', twin, first)
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual(first)
    expect(await te(twin).then((r) => r.json())).toEqual(first)
    const retained = await retainedOn(t, 'te/device/twinned///twin/#')
    expect(retained.get('te/device/twinned///twin/maintainer')).toBe('"John Doe"')
    expect(retained.get('te/device/twinned///twin/maintenance_mode')).toBe('true')

    const replace = await send('PUT', twin, { maintenance_mode: false, gone: null })
    expect(replace.status).toBe(200)
    expect(await replace.json()).toEqual({ maintenance_mode: false })
    expect(await te(twin).then((r) => r.json())).toEqual({ maintenance_mode: false })
    const after = await retainedOn(t, 'te/device/twinned///twin/#')
    expect(Object.fromEntries(after)).toEqual({ 'te/device/twinned///twin/maintenance_mode': 'false' })

    expect((await te(twin, { method: 'DELETE' })).status).toBe(204)
    expect(await te(twin).then((r) => r.json())).toEqual({})
    expect((await te(twin, { method: 'DELETE' })).status).toBe(204)
    const empty = await send('PUT', twin, {})
    expect(empty.status).toBe(200)
    expect(await empty.json()).toEqual({})
  })

  it('sees twin fragments published over MQTT', async () => {
    await pub(device, 'te/device/twinned///twin/device_OS', { family: 'Debian', version: '11' }, true)
    expect(await te(`${twin}/device_OS`).then((r) => r.json())).toEqual({ family: 'Debian', version: '11' })
  })

  it.each([
    ['a key with "/"', `${twin}/multi/path/key`, 'true'],
    ['a key starting with "@"', `${twin}/@type`, '"service"'],
    ['a map key with "/"', twin, '{"a/b": 1}'],
    ['a map key starting with "@"', twin, '{"@id": "x"}'],
    ['an empty map key', twin, '{"": 1}'],
    ['a map that is not a map', twin, 'true'],
    ['a value that is not JSON', `${twin}/test_key`, '1.2.3'],
  ])('refuses %s with 400', async (_name, path, body) => {
    await expectError(await sendRaw('PUT', path, body), 400)
  })

  it('answers 405 to PATCH, 413 to a body over 1 MiB and 404 for an unknown entity', async () => {
    expect((await sendRaw('PATCH', twin, '{"maintenance_mode":true}')).status).toBe(405)
    expect((await sendRaw('PATCH', `${twin}/maintenance_mode`, 'true')).status).toBe(405)
    const huge = await sendRaw('PUT', `${twin}/key`, `"${'x'.repeat(1024 * 1024)}"`)
    expect(huge.status).toBe(413)
    expect(await te(`${twin}/key`).then((r) => r.status)).toBe(404)
    await expectError(await te('/te/v1/entities/device/bad-child///twin'), 404)
    await expectError(await te('/te/v1/entities/device/main///cmd/123'), 404)
  })
})

describe('/te/v1/entities/{id}/config (§1.8, read-only)', () => {
  it('serves the exposed config of a service and refuses other methods', async () => {
    await pub(
      device,
      'te/device/main/service/collectd/config',
      { 'device.id': 'my-device-01', 'http.client.port': 8000 },
      true,
    )
    const base = '/te/v1/entities/device/main/service/collectd/config'
    expect(await te(base).then((r) => r.json())).toEqual({
      'device.id': 'my-device-01',
      'http.client.port': 8000,
    })
    expect(await te(`${base}/http.client.port`).then((r) => r.json())).toBe(8000)
    await expectError(await te(`${base}/missing`), 404)
    expect((await send('PUT', base, { a: 1 })).status).toBe(405)
    expect((await te(base, { method: 'DELETE' })).status).toBe(405)
  })
})

describe('/te/v1/files (§3.3)', () => {
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256))
  const put = (path: string, body: Buffer | string) =>
    te(`/te/v1/files/${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    })

  it('PUT 201, GET 200 with the same bytes, overwrite, DELETE 202, then GET 404', async () => {
    const path = 'example/config_snapshot/mosquitto-1234'
    expect((await put(path, bytes)).status).toBe(201)
    const get = await te(`/te/v1/files/${path}`)
    expect(get.status).toBe(200)
    expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true)

    expect((await put(path, 'second version')).status).toBe(201)
    expect(await te(`/te/v1/files/${path}`).then((r) => r.text())).toBe('second version')

    expect((await te(`/te/v1/files/${path}`, { method: 'DELETE' })).status).toBe(202)
    await expectError(await te(`/te/v1/files/${path}`), 404)
  })

  it('creates nested directories and keeps sibling files apart', async () => {
    expect((await put('child01/log_upload/a/b/c.log', 'deep')).status).toBe(201)
    expect((await put('child01/log_upload/a/d.log', 'shallow')).status).toBe(201)
    expect(await te('/te/v1/files/child01/log_upload/a/b/c.log').then((r) => r.text())).toBe('deep')
    expect(await te('/te/v1/files/child01/log_upload/a/d.log').then((r) => r.text())).toBe('shallow')
  })

  it('refuses ".." traversal with 400', async () => {
    expect((await put('safe.txt', 'inside')).status).toBe(201)
    await expectError(await te('/te/v1/files/..%2Ftoken'), 400)
    await expectError(await put('a/..%2F..%2Fescaped', 'outside'), 400)
    const raw = await new Promise<number | undefined>((resolve, reject) => {
      const url = new URL(t.ready.http)
      const request = http.request({
        host: url.hostname,
        port: url.port,
        path: '/te/v1/files/a/../../token',
        method: 'GET',
      })
      request.on('response', (response) => {
        response.resume()
        resolve(response.statusCode)
      })
      request.on('error', reject)
      request.end()
    })
    expect(raw).toBe(400)
  })

  it('serves the legacy /tedge/file-transfer path marked deprecated', async () => {
    expect((await put('legacy.txt', 'old path')).status).toBe(201)
    const response = await te('/tedge/file-transfer/legacy.txt')
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('old path')
    expect(response.headers.get('deprecation')).toBe('true')
    expect(response.headers.get('link')).toBe('</te/v1/files>; rel="deprecation"')
  })
})

describe('authentication', () => {
  it('serves /te/v1 to loopback clients without a token while /api/v1 needs one', async () => {
    expect((await te('/te/v1/entities')).status).toBe(200)
    expect((await te('/te/v1/entities/device/main//')).status).toBe(200)
    expect((await te('/te/v1/files/never/written.bin')).status).toBe(404)
    expect((await te('/api/v1/entities')).status).toBe(401)
  })
})
