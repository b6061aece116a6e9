import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { startCore, tempDir } from '../../helpers/core'

describe('restart on the same data dir', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('keeps a registration that waits for its parent, and applies it when the parent arrives', async () => {
    const first = await startCore({ dataDir })
    const client = await first.client()
    await client.publishAsync(
      'te/device/nozzle//',
      JSON.stringify({ '@type': 'child-device', '@parent': 'device/filler//', name: 'Nozzle 1' }),
      { retain: true, qos: 1 },
    )
    expect(
      (await first.json<{ pendingRegistrations: string[] }>('/api/v1/status')).pendingRegistrations,
    ).toEqual(['device/nozzle//'])
    await first.stop()

    const second = await startCore({ dataDir })
    expect(
      (await second.json<{ pendingRegistrations: string[] }>('/api/v1/status')).pendingRegistrations,
    ).toEqual(['device/nozzle//'])
    const parent = await second.client()
    await parent.publishAsync('te/device/filler//', JSON.stringify({ '@type': 'child-device' }), {
      retain: true,
      qos: 1,
    })
    await vi.waitFor(async () => {
      const nozzle = await second.json<{ parent: string; name: string }>(
        '/api/v1/entities/device%2Fnozzle%2F%2F',
      )
      expect(nozzle).toMatchObject({ parent: 'device/filler//', name: 'Nozzle 1' })
    })
    await second.stop()
  })
})
