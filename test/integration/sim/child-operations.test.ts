import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSimulator, type Simulator } from '../../../src-main/core/sim'
import { startCore, type TestCore } from '../../helpers/core'
import { type Payload, Requester } from './requester'

/** Small ticks so every operation takes well under a second. */
const TICK_MS = 20

let core: TestCore
let sim: Simulator | undefined
let r: Requester

/** EdgeTwin's file transfer service (reference §3.3), as the requester names it in `tedgeUrl`. */
function fileUrl(path: string): string {
  return new URL(`/te/v1/files/${path}`, core.ready.http).href
}

async function putFile(path: string, body: string | Uint8Array): Promise<void> {
  const response = await fetch(fileUrl(path), { method: 'PUT', body })
  expect(response.status).toBe(201)
}

async function getFile(path: string): Promise<string> {
  const response = await fetch(fileUrl(path))
  expect(response.status).toBe(200)
  return response.text()
}

async function snapshot(device: string, type: string, cmdId: string): Promise<string> {
  const path = `${device}/config_snapshot/${cmdId}`
  const result = await r.run(device, 'config_snapshot', cmdId, { type, tedgeUrl: fileUrl(path) })
  expect(result).toMatchObject({ status: 'successful' })
  return getFile(path)
}

async function configUpdate(device: string, type: string, cmdId: string, content: string): Promise<Payload> {
  const path = `${device}/config_update/${cmdId}`
  await putFile(path, content)
  return r.run(device, 'config_update', cmdId, { type, tedgeUrl: fileUrl(path) })
}

function latest(topic: string): Payload | '' | undefined {
  return r.json(topic).at(-1)
}

beforeEach(async () => {
  core = await startCore()
  r = await Requester.connect(core.ready.mqtt)
  sim = createSimulator({ url: core.ready.mqtt, seed: 1, tickMs: TICK_MS })
  await sim.start()
  await vi.waitFor(() =>
    expect(latest('te/device/vision/service/tedge-agent/status/health')).toMatchObject({ status: 'up' }),
  )
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
  await r.close()
  await core.stop()
})

describe('configuration operations on simulated child devices', () => {
  it('uploads a snapshot to tedgeUrl and answers with the file path', async () => {
    const tedgeUrl = fileUrl('filler/config_snapshot/t1')
    const result = await r.run('filler', 'config_snapshot', 't1', { type: 'filler.conf', tedgeUrl })
    expect(result).toEqual({
      status: 'successful',
      type: 'filler.conf',
      tedgeUrl,
      path: '/etc/filler/filler.conf',
    })
    const content = await getFile('filler/config_snapshot/t1')
    expect(content).toMatch(/^# Aquafill AF-24/)
    expect(content).toContain('nominal_speed_bpm = 120')
    expect(content).toContain('fill_volume_ml = 500')
  })

  it('applies an update the line then shows, and returns it in the next snapshot', async () => {
    const content = (await snapshot('filler', 'filler.conf', 's1'))
      .replace('nominal_speed_bpm = 120', 'nominal_speed_bpm = 150')
      .replace('fill_volume_ml = 500', 'fill_volume_ml = 750')
    const result = await configUpdate('filler', 'filler.conf', 'u1', content)
    expect(result).toMatchObject({ status: 'successful', path: '/etc/filler/filler.conf' })
    expect(r.statuses('te/device/filler///cmd/config_update/u1')).toEqual([
      'init',
      'executing',
      'download',
      'set',
      'successful',
    ])
    expect(await snapshot('filler', 'filler.conf', 's2')).toBe(content)
    expect(latest('te/device/filler///twin/nominal_speed_bpm')).toBe(150)
    // The filler runs at up to 150 bottles/min now; it could not exceed 120 before.
    const from = r.messages.length
    await r.next(
      (m) => m.topic === 'te/device/filler///m/filling' && JSON.parse(m.payload).speed > 125,
      10_000,
      from,
    )
  })

  it('rejects an invalid file with a reason naming the line, and keeps the old one', async () => {
    const before = await snapshot('capper', 'capper.conf', 's1')
    const outOfRange = before.replace('target_torque_nm = 2.2', 'target_torque_nm = 9')
    const line = outOfRange.split('\n').findIndex((l) => l.startsWith('target_torque_nm')) + 1
    expect(await configUpdate('capper', 'capper.conf', 'u1', outOfRange)).toMatchObject({
      status: 'failed',
      reason: `Invalid capper.conf, line ${line}: target_torque_nm = 9 is out of range (0.8..5 N·m)`,
    })
    expect(
      await configUpdate('capper', 'capper.conf', 'u2', 'chuck_speed_rpm = 300\nspin = fast\n'),
    ).toMatchObject({
      status: 'failed',
      reason: 'Invalid capper.conf, line 2: unknown key "spin"',
    })
    expect(await configUpdate('capper', 'capper.conf', 'u3', 'cap_feed_check = maybe\n')).toMatchObject({
      reason: 'Invalid capper.conf, line 1: cap_feed_check = maybe is not on or off',
    })
    expect(await snapshot('capper', 'capper.conf', 's2')).toBe(before)

    expect(await configUpdate('capper', 'nope.conf', 'u4', 'a = 1')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('config_type "nope.conf" is not defined'),
    })
    const missing = await r.run('capper', 'config_update', 'u5', {
      type: 'capper.conf',
      tedgeUrl: fileUrl('capper/config_update/absent'),
    })
    expect(missing).toMatchObject({ status: 'failed', reason: expect.stringContaining('HTTP 404') })
  })
})

describe('software operations on simulated child devices', () => {
  it('lists, installs and removes with goal semantics, and fails an unknown package', async () => {
    const list = await r.run('filler', 'software_list', 'l1')
    expect(list).toEqual({
      status: 'successful',
      currentSoftwareList: [
        {
          type: 'codesys',
          modules: [
            { name: 'cip-sequence', version: '2.0.3' },
            { name: 'filling-sequence', version: '3.2.0' },
            { name: 'opcua-server', version: '1.8.0' },
            { name: 'recipe-manager', version: '1.4.1' },
          ],
        },
      ],
    })

    const updateList = [
      {
        type: 'codesys',
        modules: [
          { name: 'batch-reporting', action: 'install' },
          { name: 'filling-sequence', version: '3.3.0', action: 'install' },
          { name: 'cip-sequence', action: 'remove' },
          { name: 'not-installed', action: 'remove' },
        ],
      },
    ]
    expect(await r.run('filler', 'software_update', 'u1', { updateList })).toEqual({
      status: 'successful',
      updateList,
    })
    const after = await r.run('filler', 'software_list', 'l2')
    expect(after.currentSoftwareList).toEqual([
      {
        type: 'codesys',
        modules: [
          { name: 'batch-reporting', version: '1.1.0' },
          { name: 'filling-sequence', version: '3.3.0' },
          { name: 'opcua-server', version: '1.8.0' },
          { name: 'recipe-manager', version: '1.4.1' },
        ],
      },
    ])

    const bad = [
      {
        type: 'docker',
        modules: [
          { name: 'optiq/datecode-ocr', version: '1.1.0', action: 'install' },
          { name: 'optiq/does-not-exist', version: '1.0', action: 'install' },
        ],
      },
      { type: 'apt', modules: [{ name: 'htop', version: '9.9', action: 'install' }] },
    ]
    const failed = await r.run('vision', 'software_update', 'u2', { updateList: bad })
    expect(failed).toEqual({
      status: 'failed',
      updateList: bad,
      reason: "Partial failure: Couldn't install/remove some software modules",
      failures: [
        {
          type: 'docker',
          modules: [
            {
              name: 'optiq/does-not-exist',
              version: '1.0',
              action: 'install',
              reason:
                "Error response from daemon: pull access denied for optiq/does-not-exist, repository does not exist or may require 'docker login'",
            },
          ],
        },
        {
          type: 'apt',
          modules: [
            {
              name: 'htop',
              version: '9.9',
              action: 'install',
              reason: "E: Version '9.9' for 'htop' was not found",
            },
          ],
        },
      ],
    })
    // The module that could be installed was.
    const vision = await r.run('vision', 'software_list', 'l3')
    expect(vision.currentSoftwareList).toContainEqual({
      type: 'docker',
      modules: expect.arrayContaining([{ name: 'optiq/datecode-ocr', version: '1.1.0' }]),
    })

    expect(await r.run('vision', 'software_update', 'u3', { updateList: 'everything' })).toMatchObject({
      status: 'failed',
      reason: 'Invalid software_update request: "updateList" must be an array',
    })
  })
})

describe('firmware and log operations on simulated child devices', () => {
  it('downloads a local image, reboots and updates twin/firmware', async () => {
    const image = Buffer.from('VF-400 firmware 2.10 '.repeat(1000))
    await putFile('conveyor-drive/firmware_update/fw1', image)
    const request = {
      name: 'vfd-firmware',
      version: '2.10',
      remoteUrl: 'https://firmware.drivetek.example/vf400/2.10.bin',
      tedgeUrl: fileUrl('conveyor-drive/firmware_update/fw1'),
      sha256: createHash('sha256').update(image).digest('hex'),
    }
    const result = await r.run('conveyor-drive', 'firmware_update', 'fw1', request)
    expect(result).toEqual({ status: 'successful', ...request })
    expect(r.statuses('te/device/conveyor-drive///cmd/firmware_update/fw1')).toEqual([
      'init',
      'executing',
      'download',
      'install',
      'reboot',
      'verify',
      'commit',
      'successful',
    ])
    const healths = r.json('te/device/conveyor-drive/service/tedge-agent/status/health')
    expect(healths.map((h) => (h === '' ? '' : h.status))).toEqual(['up', 'down', 'up'])
    const firmware = { name: 'vfd-firmware', version: '2.10', url: request.remoteUrl }
    expect(latest('te/device/conveyor-drive///twin/firmware')).toEqual(firmware)
    await vi.waitFor(async () =>
      expect(await core.json('/te/v1/entities/device/conveyor-drive///twin/firmware')).toEqual(firmware),
    )

    const missing = await r.run('conveyor-drive', 'firmware_update', 'fw2', {
      ...request,
      tedgeUrl: fileUrl('conveyor-drive/firmware_update/absent'),
    })
    expect(missing).toMatchObject({ status: 'failed', reason: expect.stringContaining('HTTP 404 Not Found') })
    const corrupt = await r.run('conveyor-drive', 'firmware_update', 'fw3', {
      ...request,
      sha256: '00'.repeat(32),
    })
    expect(corrupt).toMatchObject({ status: 'failed', reason: expect.stringContaining('checksum mismatch') })
    // A remote-only URL is a simulated download.
    const remote = await r.run('tank', 'firmware_update', 'fw4', {
      name: 'level-controller',
      version: '2.9.0',
      remoteUrl: 'https://updates.inoxa.example/lc/2.9.0.swu',
    })
    expect(remote).toMatchObject({ status: 'successful' })
    expect(latest('te/device/tank///twin/firmware')).toMatchObject({ version: '2.9.0' })
  })

  it('uploads the filtered lines of a device log', async () => {
    const upload = async (cmdId: string, fields: Payload): Promise<{ result: Payload; lines: string[] }> => {
      const path = `capper/log_upload/${cmdId}`
      const result = await r.run('capper', 'log_upload', cmdId, {
        type: 'capper',
        tedgeUrl: fileUrl(path),
        ...fields,
      })
      if (result.status !== 'successful') return { result, lines: [] }
      return { result, lines: (await getFile(path)).trimEnd().split('\n') }
    }
    const beforeRestart = new Date().toISOString()
    await r.run('capper', 'restart', 'r1')
    const range = { dateFrom: '2020-01-01T00:00:00Z', dateTo: new Date(Date.now() + 60_000).toISOString() }

    const all = await upload('g1', { ...range, searchText: 'Boot complete', lines: 100 })
    expect(all.result).toMatchObject({ status: 'successful', searchText: 'Boot complete', lines: 100 })
    expect(all.lines).toHaveLength(2)
    for (const line of all.lines) {
      expect(line).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}Boot complete: capper-ctl 1\.9\.7/,
      )
    }
    const sinceRestart = await upload('g2', {
      ...range,
      dateFrom: beforeRestart,
      searchText: 'Boot complete',
    })
    expect(sinceRestart.lines).toHaveLength(1)
    const restart = await upload('g3', { ...range, searchText: 'r1', lines: 2 })
    expect(restart.lines).toHaveLength(2)
    expect(restart.lines[0]).toContain('Restart requested (command r1)')
    expect(restart.lines[1]).toContain('restart r1 successful')
    expect((await upload('g4', { ...range, searchText: 'r1', lines: 1 })).lines).toEqual([restart.lines[1]])

    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await upload('g5', { dateFrom: future })).result).toMatchObject({
      status: 'failed',
      reason: 'Failed to initiate log file upload: No logs found for log type "capper"',
    })
    expect((await upload('g6', { type: 'kernel' })).result).toMatchObject({
      status: 'failed',
      reason: "The target log file for 'kernel' does not exist.",
    })
  })
})
