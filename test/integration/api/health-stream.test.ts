import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import type { StreamChange, StreamFrame } from '../../../src-main/core/api/stream-protocol'
import { startCore, type TestCore } from '../../helpers/core'

const retained = { retain: true, qos: 1 } as const

/** The health changes the live stream has sent for one entity, in order. */
function healthChanges(frames: StreamFrame[], entity: string): string[] {
  return frames
    .flatMap((f) => (f.type === 'changes' ? f.changes : []))
    .filter((c): c is Extract<StreamChange, { kind: 'health' }> => c.kind === 'health' && c.entity === entity)
    .map((c) => c.status)
}

describe('derived health on the live stream', () => {
  let t: TestCore
  let ws: WebSocket
  const frames: StreamFrame[] = []

  beforeAll(async () => {
    t = await startCore()
    ws = new WebSocket(`${t.ready.http.replace('http', 'ws')}/api/v1/stream`, {
      headers: { authorization: `Bearer ${t.ready.token}` },
    })
    ws.on('message', (data) => frames.push(JSON.parse(String(data))))
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
  })
  afterAll(async () => {
    ws.close()
    await t.stop()
  })

  it('sends up when data supersedes a down, and communication lost when the data stops, with no report', async () => {
    const c = await t.client()
    const service = 'device/main/service/logger'
    await c.publishAsync(`te/${service}/status/health`, JSON.stringify({ status: 'down' }), retained)
    await vi.waitFor(() => expect(healthChanges(frames, service)).toEqual(['down']))

    // The service keeps sending values: its down is superseded, though nothing reported up.
    await vi.waitFor(
      async () => {
        await c.publishAsync(`te/${service}/m/stats`, JSON.stringify({ lines: 1 }), { qos: 1 })
        expect(healthChanges(frames, service).at(-1)).toBe('up')
      },
      { timeout: 10_000, interval: 250 },
    )
    const stoppedAt = Date.now()
    // Silence: the 10 s floor passes and the stream says so by itself.
    await vi.waitFor(() => expect(healthChanges(frames, service).at(-1)).toBe('stale'), {
      timeout: 20_000,
      interval: 250,
    })
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(9_000)
    expect(healthChanges(frames, service)).toEqual(['down', 'up', 'stale'])
  }, 40_000)
})
