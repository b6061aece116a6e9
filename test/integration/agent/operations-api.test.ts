import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import type {
  AuditEntryView,
  ConfigTypeView,
  ConfigVersionView,
  OperationDetail,
  OperationView,
  SoftwareView,
} from '../../../src-main/core/api/types'
import { collect, startCore, type TestCore } from '../../helpers/core'

const MAIN = encodeURIComponent('device/main//')
const CHILD = 'device/press//'

let t: TestCore

beforeEach(async () => {
  t = await startCore()
  // The built-ins announce their capabilities once the plugin folders are read.
  await t.core.parts.agent.capabilitiesPublished()
})

afterEach(async () => {
  await t.stop()
})

async function post<T>(pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await t.http(pathname, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as T }
}

async function finished(id: number, timeout = 10_000): Promise<OperationDetail> {
  let detail: OperationDetail | undefined
  await vi.waitFor(
    async () => {
      detail = await t.json<OperationDetail>(`/api/v1/operations/${id}`)
      expect(detail.terminal).toBe(true)
    },
    { timeout, interval: 20 },
  )
  return detail as OperationDetail
}

async function request(entity: string, operation: string, payload: Record<string, unknown> = {}) {
  const { status, body } = await post<OperationView>(`/api/v1/entities/${entity}/operations`, {
    operation,
    payload,
  })
  expect(status).toBe(201)
  return body
}

describe('configuration versions on the main device', () => {
  test('an update becomes a version, a restore sends an earlier one back, both are audited', async () => {
    const file = path.join(t.dataDir, 'line.conf')
    writeFileSync(file, 'speed = 100\n')
    const plugin = path.join(t.dataDir, 'plugins', 'tedge-configuration-plugin.toml')
    writeFileSync(plugin, `files = [ { path = ${JSON.stringify(file)}, type = "line.conf" } ]\n`)
    const snapshot = await request(MAIN, 'config_snapshot', { type: 'line.conf' })
    expect((await finished(snapshot.id)).status).toBe('successful')

    const types = await t.json<ConfigTypeView[]>(`/api/v1/entities/${MAIN}/configs`)
    const line = types.find((c) => c.type === 'line.conf')
    expect(line?.latest).toMatchObject({ version: 1, source: 'snapshot', path: file })

    // The capability follows the plugin file (the folder is watched).
    await vi.waitFor(() =>
      expect(t.core.parts.entities.capabilities('device/main//')?.get('config_update')).toEqual({
        types: ['tedge-configuration-plugin', 'line.conf'],
      }),
    )
    const update = await post<OperationView>(`/api/v1/entities/${MAIN}/configs/line.conf`, {
      content: 'speed = 120\n',
      baseVersion: line?.latest?.id,
    })
    expect(update.status).toBe(201)
    expect((await finished(update.body.id)).status).toBe('successful')
    expect(readFileSync(file, 'utf8')).toBe('speed = 120\n')

    const versions = await t.json<ConfigVersionView[]>(`/api/v1/entities/${MAIN}/configs/line.conf/versions`)
    expect(versions.map((v) => [v.version, v.source, v.actor])).toEqual([
      [2, 'update', 'api'],
      [1, 'snapshot', 'api'],
    ])
    const first = versions[1] as ConfigVersionView
    const restore = await post<OperationView>(`/api/v1/config-versions/${first.id}/restore`, {
      baseVersion: versions[0]?.id,
    })
    expect(restore.status).toBe(201)
    expect((await finished(restore.body.id)).status).toBe('successful')
    expect(readFileSync(file, 'utf8')).toBe('speed = 100\n')
    const after = await t.json<ConfigVersionView[]>(`/api/v1/entities/${MAIN}/configs/line.conf/versions`)
    expect(after[0]).toMatchObject({ version: 3, source: 'restore', sha256: first.sha256 })
    const content = await t.json<{ content: string }>(`/api/v1/config-versions/${after[0]?.id}`)
    expect(content.content).toBe('speed = 100\n')

    const audit = await t.json<AuditEntryView[]>(`/api/v1/audit?entity=${MAIN}`)
    const change = audit.find((a) => a.action === 'config.update')
    expect(change).toMatchObject({
      actor: 'api',
      target: 'line.conf, replacing version 1',
      before: { content: 'speed = 100\n' },
    })
    expect(change?.after).toEqual({ content: 'speed = 120\n' })
    expect(audit.find((a) => a.action === 'config.restore')?.target).toBe(
      'line.conf version 1, replacing version 2',
    )
  })

  test('a type the device does not declare is refused before anything is sent', async () => {
    const { status, body } = await post<{ error: string }>(`/api/v1/entities/${MAIN}/configs/nope.conf`, {
      content: 'x',
      baseVersion: null,
    })
    expect(status).toBe(409)
    expect(body.error).toContain('nope.conf')
  })
})

test('log_upload filters by text and keeps the last lines; the file is served to the UI', async () => {
  const log = path.join(t.dataDir, 'press.log')
  writeFileSync(log, ['INFO start', 'ERROR jam 1', 'INFO ok', 'ERROR jam 2', 'ERROR jam 3'].join('\n'))
  writeFileSync(
    path.join(t.dataDir, 'plugins', 'tedge-log-plugin.toml'),
    `files = [ { type = "press", path = ${JSON.stringify(log)} } ]\n`,
  )
  const operation = await request(MAIN, 'log_upload', {
    type: 'press',
    dateFrom: new Date(Date.now() - 3_600_000).toISOString(),
    dateTo: new Date().toISOString(),
    searchText: 'ERROR',
    lines: 2,
  })
  const detail = await finished(operation.id)
  expect(detail.status).toBe('successful')
  const file = await t.http(`/api/v1/operations/${operation.id}/file`)
  const text = await file.text()
  expect(text).toContain('ERROR jam 2')
  expect(text).toContain('ERROR jam 3')
  expect(text).not.toContain('jam 1')
  expect(text).not.toContain('INFO')

  const missing = await request(MAIN, 'log_upload', { type: 'nope' })
  expect((await finished(missing.id)).reason).toMatch(/nope/)
})

test('software_update installs and removes a real file module, then the list is refreshed', async () => {
  const put = await t.http('/te/v1/files/recipes/bottle-500', {
    method: 'PUT',
    body: 'fill=500\n',
    auth: false,
  })
  expect(put.status).toBe(201)
  const url = `${t.ready.http}/te/v1/files/recipes/bottle-500`
  const install = await request(MAIN, 'software_update', {
    updateList: [{ type: 'file', modules: [{ name: 'bottle-500', version: '1.0', url, action: 'install' }] }],
  })
  expect((await finished(install.id)).status).toBe('successful')
  const installed = path.join(t.dataDir, 'software', 'file', 'bottle-500')
  expect(readFileSync(installed, 'utf8')).toBe('fill=500\n')
  await vi.waitFor(async () => {
    const software = await t.json<SoftwareView>(`/api/v1/entities/${MAIN}/software`)
    expect(software.types).toContain('file')
    expect(software.modules).toContainEqual({ type: 'file', name: 'bottle-500', version: '1.0' })
  })

  const remove = await request(MAIN, 'software_update', {
    updateList: [{ type: 'file', modules: [{ name: 'bottle-500', version: '1.0', action: 'remove' }] }],
  })
  expect((await finished(remove.id)).status).toBe('successful')
  await vi.waitFor(async () => {
    const software = await t.json<SoftwareView>(`/api/v1/entities/${MAIN}/software`)
    expect(software.modules.some((m) => m.name === 'bottle-500')).toBe(false)
  })

  const unknown = await request(MAIN, 'software_update', {
    updateList: [{ type: 'snap', modules: [{ name: 'x', action: 'install' }] }],
  })
  const failed = await finished(unknown.id)
  expect(failed.status).toBe('failed')
  expect(failed.payload.failures).toBeDefined()
})

describe('commands other connectors execute', () => {
  async function registerChildWithRestart() {
    const client = await t.client()
    await client.publishAsync(`te/${CHILD}`, JSON.stringify({ '@type': 'child-device', name: 'Press' }), {
      qos: 1,
      retain: true,
    })
    await client.publishAsync(`te/${CHILD}/cmd/restart`, '{}', { qos: 1, retain: true })
    await vi.waitFor(() => expect(t.core.parts.entities.capabilities(CHILD)?.has('restart')).toBe(true))
    return client
  }

  test('are tracked state by state, and EdgeTwin clears what it requested', async () => {
    const client = await registerChildWithRestart()
    const commands = await collect(client, `te/${CHILD}/cmd/restart/+`)
    const operation = await request(encodeURIComponent(CHILD), 'restart', { note: 'kept' })
    expect(operation.executor).toBe('external')
    const topic = `te/${CHILD}/cmd/restart/${operation.cmdId}`
    await commands.next((m) => m.topic === topic && m.payload.includes('"init"'))
    // The child's own agent answers.
    for (const status of ['executing', 'successful']) {
      await client.publishAsync(topic, JSON.stringify({ status, note: 'kept' }), { qos: 1, retain: true })
    }
    const detail = await finished(operation.id)
    expect(detail.states.map((s) => s.status)).toEqual(['init', 'executing', 'successful'])
    await commands.next((m) => m.topic === topic && m.payload === '')
  })

  test('one nobody has taken can be cancelled; it fails and its topic is cleared', async () => {
    const client = await registerChildWithRestart()
    const commands = await collect(client, `te/${CHILD}/cmd/restart/+`)
    const operation = await request(encodeURIComponent(CHILD), 'restart')
    expect(operation.cancellable).toBe(true)
    const cancel = await post<OperationView>(`/api/v1/operations/${operation.id}/cancel`)
    expect(cancel.status).toBe(200)
    expect(cancel.body).toMatchObject({
      status: 'failed',
      reason: 'Cancelled by api before any executor took it',
    })
    await commands.next((m) => m.topic.endsWith(operation.cmdId) && m.payload === '')
    const again = await post<{ error: string }>(`/api/v1/operations/${operation.id}/cancel`)
    expect(again.status).toBe(409)
    const audit = await t.json<AuditEntryView[]>('/api/v1/audit?action=operation.cancel')
    expect(audit[0]).toMatchObject({ actor: 'api', entity: CHILD, target: `restart/${operation.cmdId}` })
  })

  test('an operation the entity does not declare is refused', async () => {
    await registerChildWithRestart()
    const { status } = await post(`/api/v1/entities/${encodeURIComponent(CHILD)}/operations`, {
      operation: 'firmware_update',
    })
    expect(status).toBe(409)
  })
})

describe('audit trail', () => {
  test('twin edits are published and audited with before and after; CSV and JSON exports hold them', async () => {
    const edit = await t.http(`/api/v1/entities/${MAIN}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ twin: { location: { hall: 'B' } } }),
    })
    expect(edit.status).toBe(202)
    await vi.waitFor(() =>
      expect(t.core.parts.entities.twin('device/main//')?.get('location')?.value).toEqual({ hall: 'B' }),
    )
    await t.http(`/api/v1/entities/${MAIN}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ twin: { location: { hall: 'C, "north"' } } }),
    })

    const json = await t.http('/api/v1/audit/export?format=json')
    expect(json.headers.get('content-disposition')).toMatch(/attachment; filename="edgetwin-audit-.*\.json"/)
    const entries = (await json.json()) as AuditEntryView[]
    expect(entries.map((e) => [e.action, e.before, e.after])).toEqual([
      ['entity.update', { location: null }, { location: { hall: 'B' } }],
      ['entity.update', { location: { hall: 'B' } }, { location: { hall: 'C, "north"' } }],
    ])

    const csv = await t.http(`/api/v1/audit/export?format=csv&entity=${MAIN}`)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toBe('id,time,actor,action,entity,target,before,after')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toContain('"{""location"":{""hall"":""C, \\""north\\""""}}"')
  })

  test('a bad twin key is refused and nothing is recorded', async () => {
    const edit = await t.http(`/api/v1/entities/${MAIN}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ twin: { '@id': 'x' } }),
    })
    expect(edit.status).toBe(400)
    expect(await t.json<AuditEntryView[]>('/api/v1/audit')).toEqual([])
  })
})

test('the data dir starts with the shipped plugins and plugin files', () => {
  mkdirSync(path.join(t.dataDir, 'sm-plugins'), { recursive: true })
  expect(readFileSync(path.join(t.dataDir, 'sm-plugins', 'file'), 'utf8')).toContain('sm-plugin')
  expect(readFileSync(path.join(t.dataDir, 'plugins', 'tedge-log-plugin.toml'), 'utf8')).toContain('edgetwin')
})

test('workflow logs are kept for the newest 20 commands of an operation', async () => {
  for (let i = 0; i < 22; i++) await finished((await request(MAIN, 'log_upload', { type: 'nope' })).id)
  const logs = readdirSync(path.join(t.dataDir, 'logs')).filter((f) => f.startsWith('workflow-log_upload-'))
  expect(logs).toHaveLength(20)
})
