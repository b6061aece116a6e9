// Optimistic concurrency for configuration updates and restores: a send names the version its edit
// started from, and is refused with the version stored now when another one took its place.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import type {
  AuditEntryView,
  ConfigVersionView,
  OperationDetail,
  OperationView,
  StaleBase,
} from '../../../src-main/core/api/types'
import { startCore, type TestCore } from '../../helpers/core'

const MAIN = encodeURIComponent('device/main//')
const VERSIONS = `/api/v1/entities/${MAIN}/configs/line.conf/versions`
const UPDATE = `/api/v1/entities/${MAIN}/configs/line.conf`

let t: TestCore
let file: string

beforeEach(async () => {
  t = await startCore()
  await t.core.parts.agent.capabilitiesPublished()
  file = path.join(t.dataDir, 'line.conf')
  writeFileSync(file, 'target_torque_nm = 3.2\ntorque_tolerance_nm = 0.3\n')
  writeFileSync(
    path.join(t.dataDir, 'plugins', 'tedge-configuration-plugin.toml'),
    `files = [ { path = ${JSON.stringify(file)}, type = "line.conf" } ]\n`,
  )
  await vi.waitFor(() =>
    expect(t.core.parts.entities.capabilities('device/main//')?.get('config_update')).toMatchObject({
      types: expect.arrayContaining(['line.conf']),
    }),
  )
})

afterEach(async () => {
  await t.stop()
})

async function post<T>(pathname: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await t.http(pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as T }
}

async function succeeded(id: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const detail = await t.json<OperationDetail>(`/api/v1/operations/${id}`)
      expect(detail.terminal).toBe(true)
      expect(detail.status).toBe('successful')
    },
    { timeout: 10_000, interval: 20 },
  )
}

/** A snapshot, so the file has a first version to edit from. */
async function snapshot(): Promise<ConfigVersionView> {
  const { status, body } = await post<OperationView>(`/api/v1/entities/${MAIN}/operations`, {
    operation: 'config_snapshot',
    payload: { type: 'line.conf' },
  })
  expect(status).toBe(201)
  await succeeded(body.id)
  return (await t.json<ConfigVersionView[]>(VERSIONS))[0] as ConfigVersionView
}

async function update(content: string, baseVersion: number | null) {
  return post<OperationView & StaleBase>(UPDATE, { content, baseVersion })
}

const operationCount = async () => (await t.json<OperationView[]>('/api/v1/operations')).length

test('an edit from a version that is no longer the latest is refused with the current one, and nothing is sent', async () => {
  const v1 = await snapshot()
  // Update A: torque 3.2 → 4.2, from version 1.
  const a = await update('target_torque_nm = 4.2\ntorque_tolerance_nm = 0.3\n', v1.id)
  expect(a.status).toBe(201)
  await succeeded(a.body.id)
  const v2 = (await t.json<ConfigVersionView[]>(VERSIONS))[0] as ConfigVersionView
  expect(v2).toMatchObject({ version: 2, source: 'update' })

  // Edit B changes only the tolerance, but was made on version 1: sending it would undo A.
  const operations = await operationCount()
  const b = await update('target_torque_nm = 3.2\ntorque_tolerance_nm = 0.4\n', v1.id)
  expect(b.status).toBe(409)
  expect(b.body.error).toMatch(
    /line\.conf .*changed since the edit started from version 1: it is now version 2/,
  )
  expect(b.body.current).toMatchObject({ id: v2.id, version: 2, sha256: v2.sha256 })
  expect(b.body.current?.content).toBe('target_torque_nm = 4.2\ntorque_tolerance_nm = 0.3\n')
  expect(await operationCount()).toBe(operations)
  expect(readFileSync(file, 'utf8')).toContain('target_torque_nm = 4.2')
  const audit = await t.json<AuditEntryView[]>(`/api/v1/audit?entity=${MAIN}`)
  expect(audit.filter((e) => e.action === 'config.update')).toHaveLength(1)

  // Re-based on version 2, the same tolerance edit keeps A's torque.
  const rebased = await update('target_torque_nm = 4.2\ntorque_tolerance_nm = 0.4\n', v2.id)
  expect(rebased.status).toBe(201)
  await succeeded(rebased.body.id)
  expect(readFileSync(file, 'utf8')).toBe('target_torque_nm = 4.2\ntorque_tolerance_nm = 0.4\n')
})

test('no base (null) is current only while no version is stored', async () => {
  const v1 = await snapshot()
  const stale = await update('target_torque_nm = 4.2\n', null)
  expect(stale.status).toBe(409)
  expect(stale.body.error).toContain('started from no stored version: it is now version 1')
  expect(stale.body.current?.id).toBe(v1.id)

  // A version id of another file, or none at all, is not the latest of this one either.
  expect((await update('x = 1\n', 999_999)).status).toBe(409)
})

test('the base version is required, so a client that does not say what it edited is told', async () => {
  await snapshot()
  const response = await post<{ error: string }>(UPDATE, { content: 'target_torque_nm = 4.2\n' })
  expect(response.status).toBe(400)
  expect(response.body.error).toContain('baseVersion')
  const restore = await post<{ error: string }>(`/api/v1/config-versions/1/restore`, {})
  expect(restore.status).toBe(400)
  expect(restore.body.error).toContain('baseVersion')
})

test('a restore replaces the version the user saw, and a later version with the same content is no conflict', async () => {
  const v1 = await snapshot()
  const a = await update('target_torque_nm = 4.2\ntorque_tolerance_nm = 0.3\n', v1.id)
  await succeeded(a.body.id)
  const v2 = (await t.json<ConfigVersionView[]>(VERSIONS))[0] as ConfigVersionView

  // The restore dialog showed version 1 against version 1 (opened before A ended): refused.
  const stale = await post<StaleBase>(`/api/v1/config-versions/${v1.id}/restore`, { baseVersion: v1.id })
  expect(stale.status).toBe(409)
  expect(stale.body.current).toMatchObject({ id: v2.id, content: expect.stringContaining('4.2') })

  const restore = await post<OperationView>(`/api/v1/config-versions/${v1.id}/restore`, {
    baseVersion: v2.id,
  })
  expect(restore.status).toBe(201)
  await succeeded(restore.body.id)
  const v3 = (await t.json<ConfigVersionView[]>(VERSIONS))[0] as ConfigVersionView
  expect(v3).toMatchObject({ version: 3, source: 'restore', sha256: v1.sha256 })

  // An edit made on version 1 meets version 3 with the same content: the device has what it started from.
  const same = await update('target_torque_nm = 3.2\ntorque_tolerance_nm = 0.4\n', v1.id)
  expect(same.status).toBe(201)
  await succeeded(same.body.id)
})

test('the OpenAPI document describes the base version and the 409 with the current version', async () => {
  type Operation = {
    requestBody: { content: { 'application/json': { schema: { required: string[] } } } }
    responses: Record<string, { content?: { 'application/json': { schema: { properties: object } } } }>
  }
  const doc = await t.json<{ paths: Record<string, { post: Operation }> }>('/api/v1/openapi.json')
  for (const route of ['/api/v1/entities/{id}/configs/{type}', '/api/v1/config-versions/{id}/restore']) {
    const post = doc.paths[route]?.post
    expect(post?.requestBody.content['application/json'].schema.required).toContain('baseVersion')
    expect(
      Object.keys(post?.responses['409']?.content?.['application/json'].schema.properties ?? {}),
    ).toEqual(['error', 'current'])
  }
})

test('while an update of the file is still running, another is refused: it could undo the first', async () => {
  // A child device that declares config_update and has no agent answering: its command stays `init`.
  const client = await t.client()
  await client.publishAsync('te/device/press//', JSON.stringify({ '@type': 'child-device' }), {
    retain: true,
  })
  await client.publishAsync(
    'te/device/press///cmd/config_update',
    JSON.stringify({ types: ['press.conf'] }),
    {
      retain: true,
    },
  )
  await vi.waitFor(() =>
    expect(t.core.parts.entities.capabilities('device/press//')?.has('config_update')).toBe(true),
  )
  const press = `/api/v1/entities/${encodeURIComponent('device/press//')}/configs/press.conf`

  const first = await post<OperationView>(press, { content: 'force_kn = 40\n', baseVersion: null })
  expect(first.status).toBe(201)
  const second = await post<StaleBase>(press, { content: 'stroke_mm = 80\n', baseVersion: null })
  expect(second.status).toBe(409)
  expect(second.body.error).toBe(
    `press.conf of press is being changed by operation #${first.body.id} (init). Nothing was sent: ` +
      'wait until it ends, then review the edit against the version it leaves.',
  )
  expect(second.body).not.toHaveProperty('current')

  // Once it ended (here: withdrawn by its requester), the file can be sent again.
  expect((await post<OperationView>(`/api/v1/operations/${first.body.id}/cancel`, {})).status).toBe(200)
  expect((await post<OperationView>(press, { content: 'stroke_mm = 80\n', baseVersion: null })).status).toBe(
    201,
  )
})
