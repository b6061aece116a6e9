import { once } from 'node:events'
import { statSync, writeFileSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView, SyncConfigView } from '../../../src-main/core/api/types'
import { downTopic } from '../../../src-main/core/sync/protocol'
import { generateCerts } from '../../helpers/certs'
import { CliProcesses } from '../../helpers/cli'
import { startCloudTail } from '../../helpers/cloud-tail'
import { startCore, type TestCore, tempDir } from '../../helpers/core'
import { type Mosquitto, startMosquitto } from '../../helpers/mosquitto'
import { startProxy, type TcpProxy } from '../../helpers/tcp-proxy'
import { configureSync, registerChildren, send, syncStatus, waitForStatus } from './harness'

const SITE = 'bench-4'

describe('cloud sync configuration, bound and requests', () => {
  const processes = new CliProcesses()
  let cloud: Mosquitto | undefined
  let core: TestCore | undefined

  const proxies: TcpProxy[] = []

  afterEach(async () => {
    await core?.stop()
    core = undefined
    for (const proxy of proxies.splice(0)) await proxy.stop()
    await processes.cleanup()
    await cloud?.dispose()
    cloud = undefined
  })

  it('validates the configuration, keeps secrets owner-only and never answers them back', async () => {
    core = await startCore()
    const put = (body: unknown) => send(core as TestCore, 'PUT', '/api/v1/sync/config', body)
    const refusals: Array<[unknown, string]> = [
      [{ enabled: true }, 'needs a URL and a site id'],
      [{ url: 'http://cloud.example' }, 'must start with mqtt://'],
      [{ url: 'mqtt://user:pw@cloud.example' }, 'not in the URL'],
      [{ siteId: 'a/b' }, 'site id "a/b"'],
      [{ batchBytes: 10 }, 'batchBytes'],
      [{ clientCert: 'not a certificate' }, 'not a PEM certificate'],
      [{ password: 'no-user' }, 'a password needs a user name'],
      [{ shoeSize: 42 }, 'must NOT have additional properties'],
    ]
    for (const [body, message] of refusals) {
      const response = await put(body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(((await response.json()) as { error: string }).error).toContain(message)
    }
    const certs = await generateCerts()
    const response = await put({
      url: 'mqtts://cloud.example:8883',
      siteId: SITE,
      username: 'edge',
      password: 's3cret-pass',
      clientCert: certs.client.certPem,
      clientKey: certs.client.keyPem,
      ca: certs.ca.certPem,
    })
    expect(response.status).toBe(200)
    const view = (await response.json()) as SyncConfigView
    expect(view).toMatchObject({
      enabled: false,
      url: 'mqtts://cloud.example:8883',
      siteId: SITE,
      username: 'edge',
      password: { set: true, hint: '11 characters' },
      clientCert: { set: true },
      clientKey: { set: true },
      ca: { set: true },
    })
    expect(view.clientCert.hint).toMatch(/SHA-256 [0-9a-f]{12}…/)
    const everything = JSON.stringify([
      await core.json('/api/v1/sync/config'),
      await core.json('/api/v1/sync/status'),
      await core.json('/api/v1/audit?action=sync.configure'),
    ])
    for (const secret of ['s3cret-pass', 'PRIVATE KEY', 'BEGIN CERTIFICATE'])
      expect(everything).not.toContain(secret)
    const file = path.join(core.dataDir, 'sync.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)

    // A key that is not the certificate's is refused; removing the pair works.
    const other = await generateCerts()
    expect((await put({ clientKey: other.client.keyPem })).status).toBe(400)
    const removed = (await (await put({ clientCert: null, clientKey: null })).json()) as SyncConfigView
    expect(removed.clientCert).toEqual({ set: false, hint: null })
    expect(removed.password.set).toBe(true)
  })

  it('starts with sync off and says why when its settings file cannot be used', async () => {
    const dataDir = tempDir()
    writeFileSync(
      path.join(dataDir, 'sync.json'),
      JSON.stringify({ enabled: true, url: 'mqtt://x:1883', siteId: 'a/b' }),
    )
    core = await startCore({ dataDir })
    const status = await syncStatus(core)
    expect(status).toMatchObject({ enabled: false, state: 'off' })
    expect(status.lastError).toContain('sync.json: site id "a/b"')
    await configureSync(core, { url: 'mqtt://x:1883', siteId: SITE })
    expect((await core.json<SyncConfigView>('/api/v1/sync/config')).siteId).toBe(SITE)
  })

  it('turns on and off at run time; while off nothing is queued, on again sends the current state', async () => {
    cloud = await startMosquitto()
    core = await startCore()
    const device = await core.client()
    await registerChildren(device, ['device/mixer//'])
    expect((await syncStatus(core)).state).toBe('off')
    await configureSync(core, { url: cloud.url, siteId: SITE, batchMs: 50, enabled: true })
    await waitForStatus(core, (s) => s.state === 'connected' && s.backlog.items === 0)

    await configureSync(core, { enabled: false })
    await waitForStatus(core, (s) => s.state === 'off')
    // Items captured just before turning off reach the outbox with the next commit: a PUBACK means
    // its batch committed, so one awaited publish flushes them.
    await device.publishAsync('te/device/mixer///m/env', JSON.stringify({ temperature: 20 }), { qos: 1 })
    const off = await syncStatus(core)
    await device.publishAsync('te/device/mixer///m/env', JSON.stringify({ temperature: 21 }), { qos: 1 })
    expect((await syncStatus(core)).backlog.items).toBe(off.backlog.items)

    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    await configureSync(core, { enabled: true })
    const items = await tail.waitFor((seen) =>
      seen.some((i) => i.entity === 'device/mixer//' && i.kind === 'entity'),
    )
    expect(items.find((i) => i.entity === 'device/mixer//')).toMatchObject({ kind: 'entity', snapshot: true })
    expect(items.some((i) => i.kind === 'measurements')).toBe(false)
  }, 30_000)

  it('bounds the backlog: the oldest measurements go first; twin, alarms and events stay', async () => {
    cloud = await startMosquitto()
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    const link = await startProxy(cloud.port)
    proxies.push(link)
    link.cut()
    core = await startCore()
    const device = await core.client()
    await registerChildren(device, ['device/oven//'])
    // The network is down: everything stays in the outbox, whose bound is 1 MiB.
    await configureSync(core, {
      url: link.url,
      siteId: SITE,
      maxBacklogBytes: 1024 * 1024,
      enabled: true,
    })
    await device.publishAsync(
      'te/device/oven///a/door_open',
      JSON.stringify({ text: 'Door open', severity: 'major' }),
      {
        qos: 1,
        retain: true,
      },
    )
    await device.publishAsync('te/device/oven///twin/recipe', JSON.stringify({ name: 'bread' }), {
      qos: 1,
      retain: true,
    })
    const values = Array.from({ length: 50 }, (_, i) => [`zone${i}`, 180 + (i % 7) * 0.37])
    for (let n = 0; n < 1500; n++) {
      const payload = JSON.stringify({ ...Object.fromEntries(values), n })
      await device.publishAsync('te/device/oven///m/zones', payload, { qos: 1 })
    }
    await device.publishAsync('te/device/oven///e/batch_done', JSON.stringify({ text: 'Batch 17 done' }), {
      qos: 1,
    })
    const full = await waitForStatus(core, (s) => s.dropped.values > 0)
    expect(full.backlog.bytes).toBeLessThanOrEqual(1024 * 1024)
    expect(full.dropped.values).toBeGreaterThanOrEqual(full.dropped.items * 51)

    link.restore()
    // The backoff has grown while the network was down: the technician presses "Retry now".
    const retry = await core.http('/api/v1/sync/retry', { method: 'POST' })
    expect([200, 409]).toContain(retry.status)
    const items = await tail.waitFor((seen) => seen.some((i) => i.kind === 'event'), 30_000)
    const oven = items.filter((i) => i.entity === 'device/oven//')
    expect(oven.some((i) => i.kind === 'alarm' && i.type === 'door_open')).toBe(true)
    expect(oven.some((i) => i.kind === 'twin' && i.key === 'recipe')).toBe(true)
    // The newest measurements made it, the oldest were dropped.
    const counts = oven
      .filter((i) => i.kind === 'measurements')
      .flatMap((i) =>
        (i.samples as Array<{ names: string[]; rows: number[][] }>).flatMap((g) =>
          g.rows.map((r) => r[g.names.indexOf('n') + 1]),
        ),
      )
    expect(counts.at(-1)).toBe(1499)
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts.length).toBeLessThan(1500)
  }, 60_000)

  it('applies operation requests and alarm actions (acknowledge, shelve, comment) from the cloud, answering each', async () => {
    cloud = await startMosquitto()
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    core = await startCore()
    const device = await core.client()
    await registerChildren(device, ['device/robot//'])
    await device.publishAsync('te/device/robot///cmd/calibrate', '{}', { qos: 1, retain: true })
    await device.publishAsync(
      'te/device/robot///a/gripper',
      JSON.stringify({ text: 'Gripper slip', severity: 'minor' }),
      {
        qos: 1,
        retain: true,
      },
    )
    await device.subscribeAsync('te/device/robot///cmd/calibrate/+', { qos: 1 })
    const commands: Array<{ topic: string; payload: string }> = []
    device.on('message', (topic, payload) => commands.push({ topic, payload: payload.toString() }))
    await configureSync(core, { url: cloud.url, siteId: SITE, batchMs: 50, enabled: true })
    await waitForStatus(core, (s) => s.state === 'connected')

    // A twin fragment set to null, then removed: the cloud can tell the two apart.
    await device.publishAsync('te/device/robot///twin/tool', 'null', { qos: 1, retain: true })
    await device.publishAsync('te/device/robot///twin/tool', '', { qos: 1, retain: true })

    const cloudClient = await mqtt.connectAsync(cloud.url, { reconnectPeriod: 0 })
    const request = (kind: 'operation' | 'alarm', body: object) =>
      cloudClient.publishAsync(downTopic(SITE, kind), JSON.stringify(body), { qos: 1 })
    const calibrate = {
      id: 'op-1',
      entity: 'device/robot//',
      operation: 'calibrate',
      payload: { axis: 3 },
      origin: 'carol',
    }
    await request('operation', calibrate)
    await request('operation', { id: 'op-2', entity: 'device/robot//', operation: 'teleport' })
    await request('alarm', {
      id: 'al-1',
      entity: 'device/robot//',
      type: 'gripper',
      action: 'acknowledge',
      origin: 'carol',
    })
    await request('alarm', { id: 'al-2', entity: 'device/nowhere//', type: 'gripper', action: 'clear' })
    // Shelving and comments go down like acknowledge, and come back up with the whole alarm.
    const robotAlarm = { entity: 'device/robot//', type: 'gripper', origin: 'carol' }
    await request('alarm', {
      ...robotAlarm,
      id: 'al-3',
      action: 'shelve',
      minutes: 15,
      reason: 'gripper pads ordered',
    })
    await request('alarm', { ...robotAlarm, id: 'al-4', action: 'comment', text: 'pads arrive Tuesday' })
    await request('alarm', {
      ...robotAlarm,
      id: 'al-5',
      action: 'shelve',
      minutes: 100_000,
      reason: 'forever',
    })
    await cloudClient.publishAsync(downTopic(SITE, 'alarm'), 'not json', { qos: 1 })
    // The cloud did not hear back and sends the request again: not run twice, answered as before.
    await request('operation', calibrate)
    await cloudClient.endAsync()

    const items = await tail.waitFor((seen) => seen.filter((i) => i.kind === 'response').length >= 9, 20_000)
    const responses = items.filter((i) => i.kind === 'response')
    expect(responses.map((r) => [r.request, r.status, r.code])).toEqual([
      ['op-1', 'accepted', 200],
      ['op-2', 'rejected', 409],
      ['al-1', 'accepted', 200],
      ['al-2', 'rejected', 404],
      ['al-3', 'accepted', 200],
      ['al-4', 'accepted', 200],
      ['al-5', 'rejected', 400],
      [null, 'rejected', 400],
      ['op-1', 'duplicate', 200],
    ])
    expect(responses[8]?.cmdId).toBe(responses[0]?.cmdId)
    const lastAlarm = items.filter((i) => i.kind === 'alarm' && i.type === 'gripper').at(-1)
    expect(lastAlarm).toMatchObject({
      shelvedBy: 'cloud:carol',
      shelveReason: 'gripper pads ordered',
      comments: [expect.objectContaining({ author: 'cloud:carol', text: 'pads arrive Tuesday' })],
    })
    const tool = items.filter((i) => i.kind === 'twin' && i.key === 'tool')
    expect(tool.map(({ value, removed }) => ({ value, removed }))).toEqual([
      { value: null, removed: undefined },
      { value: null, removed: true },
    ])
    // The requested command is on the local bus for the device's agent, as thin-edge.io's mapper would send it.
    await vi.waitFor(() =>
      expect(commands.map((c) => JSON.parse(c.payload))).toContainEqual(
        expect.objectContaining({ status: 'init', axis: 3 }),
      ),
    )
    expect(responses[0]?.cmdId).toEqual(expect.any(String))
    expect(commands.filter((c) => c.payload.includes('"init"'))).toHaveLength(1)
    const alarms = await core.json<AlarmView[]>('/api/v1/alarms?entity=device%2Frobot%2F%2F')
    expect(alarms[0]).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'cloud:carol',
      shelveReason: 'gripper pads ordered',
    })
    const audit = await core.json<Array<{ actor: string; action: string }>>('/api/v1/audit')
    expect(audit.map((a) => [a.actor, a.action])).toEqual(
      expect.arrayContaining([
        ['cloud:carol', 'operation.request'],
        ['cloud:carol', 'alarm.acknowledge'],
        ['cloud:carol', 'alarm.shelve'],
        ['cloud:carol', 'alarm.comment'],
      ]),
    )
    expect((await syncStatus(core)).received).toEqual({ messages: 9, rejected: 4 })
  }, 60_000)

  it('connects over mutual TLS with the stored client certificate and CA', async () => {
    const certs = await generateCerts()
    cloud = await startMosquitto({
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requireCertificate: true },
    })
    core = await startCore()
    await configureSync(core, {
      url: cloud.tlsUrl as string,
      siteId: SITE,
      clientCert: certs.client.certPem,
      clientKey: certs.client.keyPem,
      ca: certs.ca.certPem,
      enabled: true,
    })
    await waitForStatus(core, (s) => s.state === 'connected' && s.sent.items > 0)
    // Without the client certificate the broker refuses the connection, and the status says why.
    await configureSync(core, { clientCert: null, clientKey: null })
    const refused = await waitForStatus(core, (s) => s.state === 'disconnected' && s.lastError !== null)
    expect(refused.nextRetryAt).toBeGreaterThan(Date.now() - 1000)
  }, 30_000)

  it('says why the cloud broker cannot be reached in plain words, keeping the system error for logs', async () => {
    core = await startCore()
    // `.invalid` never resolves (RFC 2606); an offline resolver answers EAI_AGAIN, which reads the same.
    await configureSync(core, { url: 'mqtt://cloud.example.invalid:1883', siteId: SITE, enabled: true })
    const unknown = await waitForStatus(core, (s) => s.state === 'disconnected' && s.lastError !== null)
    expect(unknown.lastError).toBe('Cannot find host cloud.example.invalid: check the URL, DNS or network')
    expect(unknown.lastErrorCode).toMatch(/ENOTFOUND|EAI_AGAIN/)

    // A port where nothing listens: a free one, taken and given back.
    const server = net.createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as AddressInfo).port
    await new Promise((resolve) => server.close(resolve))
    await configureSync(core, { url: `mqtt://127.0.0.1:${port}` })
    const refused = await waitForStatus(core, (s) => s.lastErrorCode?.includes('ECONNREFUSED') === true)
    expect(refused.lastError).toBe(
      `127.0.0.1 (port ${port}) refused the connection: check the port, and that the cloud broker is running`,
    )
  }, 30_000)
})
