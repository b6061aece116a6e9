import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { MAX_STREAM_CONNECTIONS } from '../../../src-main/core/api/stream'
import { MAX_CHANGE_BYTES, MAX_FRAME_BYTES } from '../../../src-main/core/api/stream-frames'
import type { StreamChange, StreamFrame } from '../../../src-main/core/api/stream-protocol'
import { startCore, type TestCore } from '../../helpers/core'

// The live stream stays bounded whatever devices send and however many browsers connect: a cap
// on connections with a clear close reason, frames of bounded size with oversized changes cut
// short, and a client that stops reading neither blocks the others nor misses the latest state.

let t: TestCore
const sockets: WebSocket[] = []

beforeAll(async () => {
  // Larger messages than the broker's defaults on purpose: what is bounded here is the frame,
  // whatever the broker was set to let through.
  t = await startCore({ mqttLimits: { maxPacketSize: 1024 * 1024, maxRetainedSize: 1024 * 1024 } })
})
afterAll(async () => {
  for (const socket of sockets) socket.terminate()
  await t.stop()
})

interface Watcher {
  ws: WebSocket
  frames: StreamFrame[]
  sizes: number[]
  changes: () => StreamChange[]
}

function watch(): Promise<Watcher> {
  const ws = new WebSocket(`${t.ready.http.replace('http', 'ws')}/api/v1/stream`, {
    headers: { authorization: `Bearer ${t.ready.token}` },
  })
  sockets.push(ws)
  const frames: StreamFrame[] = []
  const sizes: number[] = []
  ws.on('message', (data: Buffer) => {
    sizes.push(data.length)
    frames.push(JSON.parse(String(data)))
  })
  const changes = () => frames.flatMap((f) => (f.type === 'changes' ? f.changes : []))
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve({ ws, frames, sizes, changes }))
    ws.once('error', reject)
    ws.once('close', (code, reason) => reject(new Error(`closed: ${code} ${reason}`)))
  })
}

describe('live stream limits', () => {
  it(`takes ${MAX_STREAM_CONNECTIONS} streams, closes the next with a reason, and takes one again when one leaves`, async () => {
    const open = await Promise.all(Array.from({ length: MAX_STREAM_CONNECTIONS }, () => watch()))
    expect(open.every((w) => w.frames[0]?.type === 'hello')).toBe(true)
    const extra = new WebSocket(`${t.ready.http.replace('http', 'ws')}/api/v1/stream`, {
      headers: { authorization: `Bearer ${t.ready.token}` },
    })
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      extra.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    )
    expect(closed.code).toBe(1013)
    expect(closed.reason).toMatch(/too many live streams/)
    const leaving = open.pop() as Watcher
    const left = new Promise((resolve) => leaving.ws.once('close', resolve))
    leaving.ws.close()
    await left
    const again = await vi.waitFor(() => watch())
    expect(again.frames[0]?.type).toBe('hello')
    await Promise.all(
      [...open, again].map((w) => new Promise((resolve) => w.ws.once('close', resolve).close())),
    )
  })

  it('cuts short a change too large for a frame: a 200 kB alarm text and twin value', async () => {
    const watcher = await watch()
    const device = await t.client()
    const huge = 'A'.repeat(200_000)
    await device.publishAsync(
      'te/device/main///a/flood',
      JSON.stringify({ text: huge, severity: 'minor', extra: huge }),
      {
        retain: true,
        qos: 1,
      },
    )
    await device.publishAsync('te/device/main///twin/blob', JSON.stringify({ data: huge }), {
      retain: true,
      qos: 1,
    })
    const alarm = await vi.waitFor(() => {
      const found = watcher.changes().find((c) => c.kind === 'alarm' && c.alarm.type === 'flood')
      if (found?.kind !== 'alarm') throw new Error('no alarm change yet')
      return found
    })
    expect(alarm.truncated).toBe(true)
    expect(alarm.alarm.text.length).toBeLessThanOrEqual(1025)
    expect(alarm.alarm.payload).toBeNull()
    const twin = await vi.waitFor(() => {
      const found = watcher.changes().find((c) => c.kind === 'twin' && c.key === 'blob')
      if (!found) throw new Error('no twin change yet')
      return found
    })
    expect(twin).toMatchObject({ truncated: true, value: null })
    expect(Math.max(...watcher.sizes)).toBeLessThan(MAX_CHANGE_BYTES * 2)
    // The API still has it whole.
    const alarms = (await t.json('/api/v1/alarms')) as Array<{ type: string; text: string }>
    expect(alarms.find((a) => a.type === 'flood')?.text).toHaveLength(200_000)
    watcher.ws.close()
  })

  it('splits many changes into frames of bounded size, losing none', async () => {
    const watcher = await watch()
    const device = await t.client()
    const SERIES = 3000
    await Promise.all(
      Array.from({ length: SERIES }, (_, i) =>
        device.publishAsync(`te/device/main///m/series_${i}`, JSON.stringify({ value: i }), { qos: 1 }),
      ),
    )
    await vi.waitFor(() => {
      const seen = new Set(watcher.changes().flatMap((c) => (c.kind === 'measurement' ? [c.type] : [])))
      if (seen.size < SERIES) throw new Error(`${seen.size} of ${SERIES} series`)
    })
    // A frame goes over the bound by at most the one change that crossed it.
    expect(Math.max(...watcher.sizes)).toBeLessThan(MAX_FRAME_BYTES + MAX_CHANGE_BYTES)
    watcher.ws.close()
  })

  it('keeps a client that stops reading from holding up the others, and brings it up to date after', async () => {
    const [stalled, reading] = await Promise.all([watch(), watch()])
    stalled.ws.pause()
    const device = await t.client()
    // 40 rounds of 50 twin values just under the cut-short size: far more than the socket buffers
    // and the core's per-client bound hold, so the stalled client falls behind.
    const payload = 'x'.repeat(15_000)
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          device.publishAsync(`te/device/main///twin/filler_${i}`, JSON.stringify(`${round}-${payload}`), {
            qos: 1,
          }),
        ),
      )
    }
    await device.publishAsync('te/device/main///m/marker', JSON.stringify({ value: 42 }), { qos: 1 })
    const hasMarker = (w: Watcher) =>
      w.changes().some((c) => c.kind === 'measurement' && c.type === 'marker' && c.values.value === 42)
    await vi.waitFor(() => expect(hasMarker(reading)).toBe(true))
    expect(hasMarker(stalled)).toBe(false)
    stalled.ws.resume()
    await vi.waitFor(() => expect(hasMarker(stalled)).toBe(true), { timeout: 10_000 })
    const last = stalled
      .changes()
      .filter((c) => c.kind === 'twin' && c.key === 'filler_0')
      .at(-1)
    expect(last?.kind === 'twin' && String(last.value).startsWith('39-')).toBe(true)
    stalled.ws.close()
    reading.ws.close()
  })

  it('ends a stream opened with the UI session when that session ends (logout), not one opened with the token', async () => {
    const login = await fetch(`${t.ready.http}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.ready.token }),
    })
    expect(login.status).toBe(204)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
    const origin = t.ready.http
    const ui = new WebSocket(`${origin.replace('http', 'ws')}/api/v1/stream`, { headers: { cookie, origin } })
    sockets.push(ui)
    await new Promise((resolve, reject) => {
      ui.once('message', resolve)
      ui.once('error', reject)
    })
    const closed = new Promise<[number, string]>((resolve) =>
      ui.once('close', (code, reason) => resolve([code, String(reason)])),
    )
    const api = await watch()

    const logout = await fetch(`${origin}/api/v1/session`, { method: 'DELETE', headers: { cookie, origin } })
    expect(logout.status).toBe(204)
    expect(await closed).toEqual([4401, 'the session ended: log in again'])
    expect(api.ws.readyState).toBe(WebSocket.OPEN)
  }, 30_000)
})
