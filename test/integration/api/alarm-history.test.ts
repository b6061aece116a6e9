import { rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import type { AlarmDetailView, AlarmHistoryEntry, AlarmView } from '../../../src-main/core/api/types'
import { startCore, type TestCore, tempDir } from '../../helpers/core'
import { pub } from '../conformance/bus-helpers'

// An alarm's history from GET /api/v1/alarms/{id}: raised and raised again on the bus, then
// acknowledged, shelved, unshelved, commented and cleared over HTTP or on the bus, answered in order
// with who did what, right after each action.

let t: TestCore | undefined
let dirs: string[] = []
afterEach(async () => {
  await t?.stop()
  t = undefined
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs = []
})

const FILLER = 'device/filler//'
const START = Date.parse('2026-05-01T08:00:00Z')
const at = (s: number) => new Date(START + s * 1000).toISOString()

async function filler(core: TestCore): Promise<MqttClient> {
  const client = await core.client()
  await pub(client, `te/${FILLER}`, { '@type': 'child-device', '@parent': 'device/main//' }, true)
  return client
}

/** Raises (or raises again) on the bus; the PUBACK comes once it is stored. */
const raise = (client: MqttClient, type: string, time: string) =>
  pub(client, `te/${FILLER}/a/${type}`, { severity: 'major', text: `${type} on the filler`, time }, true)

async function openAlarm(core: TestCore, type: string): Promise<AlarmView> {
  const alarms = await core.json<AlarmView[]>(`/api/v1/alarms?entity=${encodeURIComponent(FILLER)}`)
  const alarm = alarms.find((a) => a.type === type)
  if (!alarm) throw new Error(`no open ${type} alarm`)
  return alarm
}

async function post(core: TestCore, url: string, body?: unknown): Promise<AlarmView> {
  const response = await core.http(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as AlarmView
}

const history = async (core: TestCore, id: number): Promise<AlarmHistoryEntry[]> =>
  (await core.json<AlarmDetailView>(`/api/v1/alarms/${id}`)).history

describe('alarm history', () => {
  it('answers raise, raise again, acknowledge, shelve, unshelve, comment and a clear on the bus, in order', async () => {
    t = await startCore()
    const client = await filler(t)
    await raise(client, 'pressure_low', at(0))
    const alarm = await openAlarm(t, 'pressure_low')
    await raise(client, 'pressure_low', at(30))
    await raise(client, 'pressure_low', at(45))
    expect(await history(t, alarm.id)).toEqual([
      { kind: 'raised', time: START, occurrence: 1 },
      { kind: 'raised', time: START + 30_000, occurrence: 2 },
      { kind: 'raised', time: START + 45_000, occurrence: 3 },
    ])

    // Each step is in the history the moment its answer is back: no waiting for a batch.
    const acked = await post(t, `/api/v1/alarms/${alarm.id}/acknowledge`)
    expect((await history(t, alarm.id)).at(-1)).toEqual({
      kind: 'acknowledged',
      time: acked.acknowledgedAt,
      by: 'api',
    })
    const shelved = await post(t, `/api/v1/alarms/${alarm.id}/shelve`, { minutes: 30, reason: 'sensor swap' })
    expect((await history(t, alarm.id)).at(-1)).toMatchObject({
      kind: 'shelved',
      by: 'api',
      until: shelved.shelvedUntil,
      reason: 'sensor swap',
    })
    await post(t, `/api/v1/alarms/${alarm.id}/unshelve`)
    expect((await history(t, alarm.id)).at(-1)).toMatchObject({ kind: 'unshelved', by: 'api' })
    await post(t, `/api/v1/alarms/${alarm.id}/comments`, { text: 'Sensor replaced' })
    await pub(client, `te/${FILLER}/a/pressure_low`, '', true)

    const steps = await history(t, alarm.id)
    expect(steps.map((s) => s.kind)).toEqual([
      'raised',
      'raised',
      'raised',
      'acknowledged',
      'shelved',
      'unshelved',
      'comment',
      'cleared',
    ])
    expect(steps.slice(-2)).toMatchObject([
      { kind: 'comment', by: 'api', text: 'Sensor replaced' },
      { kind: 'cleared', by: 'device' },
    ])
    const actions = steps.slice(3).map((s) => s.time)
    expect(actions).toEqual([...actions].sort((a, b) => a - b))
    expect(actions[0]).toBeGreaterThan(START + 45_000)
  })

  it('keeps its shelves across a restart: one its time ended, then a clear by the operator over HTTP', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    t = await startCore({ dataDir })
    const client = await filler(t)
    await raise(client, 'level_low', at(0))
    const alarm = await openAlarm(t, 'level_low')
    await post(t, `/api/v1/alarms/${alarm.id}/shelve`, { minutes: 5, reason: 'cleaning' })
    await t.stop()
    // Time passes while the core is stopped: the shelf runs out, and the core ends it at start.
    const db = new Database(path.join(dataDir, 'edgetwin.db'))
    db.prepare('UPDATE alarms SET shelved_until = ? WHERE id = ?').run(Date.now() - 1000, alarm.id)
    db.close()

    t = await startCore({ dataDir })
    await post(t, `/api/v1/alarms/${alarm.id}/clear`)
    expect((await history(t, alarm.id)).map((s) => [s.kind, 'by' in s ? s.by : undefined])).toEqual([
      ['raised', undefined],
      ['shelved', 'api'],
      ['shelf-ended', undefined],
      ['cleared', 'api'],
    ])
  })

  it('starts shelved an alarm raised again while the shelf of the one before still runs', async () => {
    t = await startCore()
    const client = await filler(t)
    await raise(client, 'level_low', at(0))
    const first = await openAlarm(t, 'level_low')
    await post(t, `/api/v1/alarms/${first.id}/shelve`, { minutes: 60, reason: 'tank being cleaned' })
    await pub(client, `te/${FILLER}/a/level_low`, '', true)
    await raise(client, 'level_low', at(600))
    const again = await openAlarm(t, 'level_low')
    expect(again.id).not.toBe(first.id)
    expect(await history(t, again.id)).toEqual([
      { kind: 'raised', time: START + 600_000, occurrence: 1 },
      {
        kind: 'shelved',
        time: START + 600_000,
        by: 'api',
        until: again.shelvedUntil,
        reason: 'tank being cleaned',
      },
    ])
  })

  it('numbers the raises kept: the first and the latest 20, so a gap shows the ones left out', async () => {
    t = await startCore()
    const client = await filler(t)
    for (let k = 0; k < 25; k++) await raise(client, 'chatter', at(k))
    const alarm = await openAlarm(t, 'chatter')
    expect(alarm.count).toBe(25)
    const raises = (await history(t, alarm.id)).filter((s) => s.kind === 'raised')
    expect(raises.map((s) => (s.kind === 'raised' ? s.occurrence : 0))).toEqual([
      1,
      ...Array.from({ length: 20 }, (_, i) => i + 6),
    ])
    expect(raises[0]?.time).toBe(START)
    expect(raises.at(-1)?.time).toBe(START + 24_000)
  })

  it('answers 404 for an unknown alarm and 400 for an id that is not a number', async () => {
    t = await startCore()
    const missing = await t.http('/api/v1/alarms/4242')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: 'alarm 4242 not found' })
    expect((await t.http('/api/v1/alarms/abc')).status).toBe(400)
  })
})
