import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EntityDetail } from '../../../src-main/core/api/types'
import { MAIN, startWorkflowCore, statuses, type WorkflowCore } from '../../fixtures/workflows/harness'
import { collect } from '../../helpers/core'

// The shipped sample, copied into operations/ as its header tells users to.
const SAMPLE = path.resolve(import.meta.dirname, '../../../resources/operations')
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

describe('the sample firmware_update workflow', () => {
  let t: WorkflowCore
  let firmwareDir: string

  beforeEach(async () => {
    t = await startWorkflowCore(({ operationsDir }) => {
      for (const file of ['firmware_update.toml', 'firmware_handler.sh'])
        copyFileSync(path.join(SAMPLE, file), path.join(operationsDir, file))
    })
    firmwareDir = path.join(t.dataDir, 'firmware')
  })
  afterEach(() => t.stop())

  /** Serves an image from the file transfer service, as a mapper's proxy would. */
  async function serve(name: string, image: Buffer): Promise<string> {
    const response = await t.http(`/te/v1/files/firmware/${name}`, { method: 'PUT', body: image })
    expect(response.status).toBe(201)
    return `${t.ready.http}/te/v1/files/firmware/${name}`
  }

  const twin = () => t.json<EntityDetail>(`/api/v1/entities/${MAIN}`).then((e) => e.twin)
  const slot = (name: string) => path.join(firmwareDir, `slot-${name}`)

  it('downloads, installs into the inactive slot, verifies the sha256, commits and updates the twin', async () => {
    await vi.waitFor(async () => {
      const capability = await t.core.parts.bus.retained('te/device/main///cmd/firmware_update')
      expect(capability.map((m) => m.payload.toString())).toEqual(['{}'])
    })
    const client = await t.client()
    const image = randomBytes(4096)
    const url = await serve('core-image-2.0.0.bin', image)

    const requested = await t.request(MAIN, 'firmware_update', {
      name: 'core-image',
      version: '2.0.0',
      remoteUrl: url,
      sha256: sha256(image),
    })
    const commands = await collect(client, `te/device/main///cmd/firmware_update/${requested.cmdId}`)
    const done = await t.finished(requested.id)

    expect(done.status).toBe('successful')
    expect(done.reason).toBeNull()
    expect(statuses(done)).toEqual([
      'init',
      'executing',
      'download',
      'install',
      'reboot',
      'verify',
      'commit',
      'successful',
    ])
    const toml = readFileSync(path.join(t.operationsDir, 'firmware_update.toml'))
    expect(done.payload).toMatchObject({
      name: 'core-image',
      version: '2.0.0',
      remoteUrl: url,
      '@version': sha256(toml),
    })
    expect(readFileSync(done.payload.downloadedPath as string)).toEqual(image)

    // The new image went to slot b, which is now the active one; nothing is left half done.
    expect(readFileSync(path.join(slot('b'), 'image'))).toEqual(image)
    expect(readFileSync(path.join(firmwareDir, 'active'), 'utf8').trim()).toBe('b')
    expect(JSON.parse(readFileSync(path.join(slot('b'), 'firmware.json'), 'utf8'))).toEqual({
      name: 'core-image',
      version: '2.0.0',
      url,
    })
    expect(readdirSync(firmwareDir).sort()).toEqual(['active', 'slot-a', 'slot-b'])

    await vi.waitFor(async () =>
      expect((await twin()).firmware?.value).toEqual({ name: 'core-image', version: '2.0.0', url }),
    )
    // EdgeTwin requested it, so EdgeTwin clears the topic once it is done.
    await commands.next((m) => m.payload === '')
    expect(done.log).toContain('slot b is active: core-image 2.0.0')
  })

  it('rolls back to the running slot and fails with the reason when the sha256 does not match', async () => {
    // A first update makes slot b the running one, with a twin to keep.
    const first = randomBytes(1024)
    const firstUrl = await serve('v1.bin', first)
    const installed = await t.request(MAIN, 'firmware_update', {
      name: 'core-image',
      version: '1.0.0',
      remoteUrl: firstUrl,
    })
    expect((await t.finished(installed.id)).status).toBe('successful')

    const image = randomBytes(2048)
    const wrong = sha256('something else')
    const requested = await t.request(MAIN, 'firmware_update', {
      name: 'core-image',
      version: '2.0.0',
      remoteUrl: await serve('v2.bin', image),
      sha256: wrong,
    })
    const done = await t.finished(requested.id)

    expect(done.status).toBe('failed')
    expect(statuses(done)).toEqual([
      'init',
      'executing',
      'download',
      'install',
      'reboot',
      'verify',
      'rollback',
      'failed',
    ])
    const reason = `sha256 mismatch: expected ${wrong}, got ${sha256(image)}`
    expect(done.reason).toBe(reason)
    // The handler's reason replaces the state's generic one, and rollback keeps it.
    expect(done.states.find((s) => s.status === 'rollback')?.reason).toBe(reason)

    expect(readFileSync(path.join(firmwareDir, 'active'), 'utf8').trim()).toBe('b')
    expect(readFileSync(path.join(slot('b'), 'image'))).toEqual(first)
    expect(readdirSync(slot('a'))).toEqual([])
    expect(readdirSync(firmwareDir).sort()).toEqual(['active', 'slot-a', 'slot-b'])
    expect((await twin()).firmware?.value).toEqual({ name: 'core-image', version: '1.0.0', url: firstUrl })
  })

  it('fails in plan without a name, and with the download error when the image is missing', async () => {
    const unnamed = await t.request(MAIN, 'firmware_update', { version: '1', remoteUrl: 'http://x/y' })
    const noName = await t.finished(unnamed.id)
    expect(statuses(noName)).toEqual(['init', 'failed'])
    expect(noName.reason).toBe('the request names no firmware: give it a name')

    const missing = await t.request(MAIN, 'firmware_update', {
      name: 'core-image',
      version: '3',
      remoteUrl: `${t.ready.http}/te/v1/files/firmware/none.bin`,
    })
    const notFound = await t.finished(missing.id)
    expect(statuses(notFound)).toEqual(['init', 'executing', 'download', 'failed'])
    expect(notFound.reason).toBe("builtin 'download' action failed with: HTTP 404")
    expect(existsSync(path.join(firmwareDir, 'active'))).toBe(true)
    expect(existsSync(path.join(firmwareDir, 'pending'))).toBe(false)
  })

  it('runs as a sub-operation of the built-in device_profile, which then updates twin/device_profile', async () => {
    const image = Buffer.from('an image without a checksum: verify only checks it is not empty\n')
    const url = await serve('profile.bin', image)
    const client = await t.client()
    const sub = await collect(client, 'te/device/main///cmd/firmware_update/+')

    const requested = await t.request(MAIN, 'device_profile', {
      name: 'prod-profile',
      version: 'v2',
      operations: [
        {
          operation: 'firmware_update',
          '@skip': false,
          payload: { name: 'fw', version: '4.2', remoteUrl: url },
        },
      ],
    })
    const done = await t.finished(requested.id)

    expect(done.status).toBe('successful')
    expect(statuses(done)).toEqual([
      'init',
      'scheduled',
      'executing',
      'next_operation',
      'apply_operation',
      'awaiting_operation',
      'next_operation',
      'twin_update',
      'successful',
    ])
    const subTopic = `te/device/main///cmd/firmware_update/sub:device_profile:${requested.cmdId}`
    await sub.next((m) => m.topic === subTopic && m.payload === '')
    const subStates = sub.messages.filter((m) => m.topic === subTopic).map((m) => m.payload)
    expect(JSON.parse(subStates[0] as string)).toEqual({
      status: 'init',
      name: 'fw',
      version: '4.2',
      remoteUrl: url,
    })
    expect(subStates.at(-2) && JSON.parse(subStates.at(-2) as string).status).toBe('successful')
    expect(subStates.at(-1)).toBe('')
    await vi.waitFor(async () => {
      const fragments = await twin()
      expect(fragments.device_profile?.value).toEqual({ name: 'prod-profile', version: 'v2' })
      expect(fragments.firmware?.value).toEqual({ name: 'fw', version: '4.2', url })
    })
  })
})
