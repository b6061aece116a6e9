import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { StreamChange, StreamFrame } from '../../../src-main/core/api/stream-protocol'
import { startCore, type TestCore } from '../../helpers/core'

function open(
  t: TestCore,
  token = t.ready.token,
): Promise<{
  ws: WebSocket
  frames: StreamFrame[]
  until: (test: (c: StreamChange) => boolean) => Promise<StreamChange>
}> {
  const url = `${t.ready.http.replace('http', 'ws')}/api/v1/stream`
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
  const frames: StreamFrame[] = []
  const waiters: Array<() => void> = []
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)))
    for (const wake of waiters.splice(0)) wake()
  })
  const until = (test: (c: StreamChange) => boolean) =>
    new Promise<StreamChange>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching change within 5 s')), 5000)
      const check = () => {
        const found = frames.flatMap((f) => (f.type === 'changes' ? f.changes : [])).find(test)
        if (found) {
          clearTimeout(timer)
          resolve(found)
        } else waiters.push(check)
      }
      check()
    })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, until }))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

describe('/api/v1/stream', () => {
  let t: TestCore
  beforeAll(async () => {
    t = await startCore()
  })
  afterAll(() => t.stop())

  it('refuses a connection without a valid token', async () => {
    await expect(open(t, 'wrong-token')).rejects.toThrow('HTTP 403')
  })

  it('greets, then sends entity, twin, measurement, event and alarm changes', async () => {
    const { ws, frames, until } = await open(t)
    const client = await t.client()
    await client.publishAsync(
      'te/device/mixer//',
      JSON.stringify({ '@type': 'child-device', name: 'Mixer' }),
      { retain: true, qos: 1 },
    )
    await client.publishAsync('te/device/mixer///m/motor', JSON.stringify({ speed: 1450 }), { qos: 1 })
    await client.publishAsync('te/device/mixer///e/door', JSON.stringify({ text: 'Door opened' }), { qos: 1 })
    await client.publishAsync(
      'te/device/mixer///a/jam',
      JSON.stringify({ text: 'Jam', severity: 'critical' }),
      { retain: true, qos: 1 },
    )
    expect(frames[0]).toMatchObject({ type: 'hello', intervalMs: 250 })
    await until((c) => c.kind === 'entity' && c.entity === 'device/mixer//')
    await until(
      (c) => c.kind === 'twin' && c.entity === 'device/mixer//' && c.key === 'name' && c.value === 'Mixer',
    )
    await until((c) => c.kind === 'measurement' && c.values.speed === 1450)
    await until((c) => c.kind === 'event' && c.text === 'Door opened')
    const alarm = await until((c) => c.kind === 'alarm' && c.alarm.type === 'jam')
    expect(alarm).toMatchObject({
      entity: 'device/mixer//',
      alarm: { severity: 'critical', status: 'active', entity: 'device/mixer//' },
    })
    ws.close()
  })

  it('coalesces a burst of values of one series into its latest value', async () => {
    const { ws, frames, until } = await open(t)
    const client = await t.client()
    for (let i = 1; i <= 200; i++) client.publish('te/device/mixer///m/motor', JSON.stringify({ speed: i }))
    await until((c) => c.kind === 'measurement' && c.values.speed === 200)
    const speeds = frames
      .flatMap((f) => (f.type === 'changes' ? f.changes : []))
      .filter((c) => c.kind === 'measurement')
    // 200 values in well under a second arrive as a handful of frames, not 200 changes.
    expect(speeds.length).toBeLessThan(20)
    ws.close()
  })
})
