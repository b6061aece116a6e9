import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EntitySummary } from '../../../src-main/core/api/types'
import { CliProcesses } from '../../helpers/cli'
import { collect, startCore, type TestCore } from '../../helpers/core'

// `edgetwin sim` run against a core that already runs the built-in line (the README's example).

const LINE_SERVICES = [
  'device/main/service/line-controller',
  'device/filler/service/plc-runtime',
  'device/filler/service/tedge-agent',
  'device/capper/service/tedge-agent',
]

describe('a second simulator against a core running the built-in line', () => {
  let t: TestCore
  const cli = new CliProcesses()
  const entities = () => t.json<EntitySummary[]>('/api/v1/entities')
  const healthOf = async (id: string) => (await entities()).find((e) => e.id === id)?.health?.status

  beforeAll(async () => {
    t = await startCore({ sim: true, seed: 1 })
    await vi.waitFor(
      async () => {
        for (const id of LINE_SERVICES) expect(await healthOf(id)).toBe('up')
      },
      { timeout: 20_000 },
    )
  })
  afterAll(async () => {
    await cli.cleanup()
    await t.stop()
  })

  it('runs only its own load devices and leaves the live line up when it exits', async () => {
    const watcher = await t.client()
    const health = await collect(watcher, 'te/+/+/service/+/status/health')
    const run = cli.run(['sim', '--url', t.ready.mqtt, '--devices', '2', '--rate', '2', '--duration', '3'])
    expect(await run.exited).toEqual({ code: 0, signal: null })
    expect(run.stdout()).toMatch(/already runs there: publishing only the load devices/)

    const ids = (await entities()).map((e) => e.id)
    expect(ids).toEqual(expect.arrayContaining(['device/load-0001//', 'device/load-0002//']))
    // Neither its exit nor a Last Will said `down` for any service of the line.
    const downs = health.messages.filter((m) => !m.retain && m.payload.includes('"down"'))
    expect(downs.map((m) => m.topic)).toEqual([])
    for (const id of LINE_SERVICES) expect(await healthOf(id)).toBe('up')
  })
})
