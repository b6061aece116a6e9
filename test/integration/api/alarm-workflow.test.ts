import { rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { MqttClient } from 'mqtt'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView, AuditEntryView, EntitySummary } from '../../../src-main/core/api/types'
import { startCore, type TestCore, tempDir } from '../../helpers/core'
import { apiEntity, pub } from '../conformance/bus-helpers'

// Alarms as a workflow: shelving (bounded, with a reason, ended by the core when its time is up,
// also across a restart), comments, first-out of a burst and the raise history; each action audited.

let t: TestCore | undefined
let dirs: string[] = []
afterEach(async () => {
  await t?.stop()
  t = undefined
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs = []
})

const FILLER = 'device/filler//'
const CAPPER = 'device/capper//'
const TANK = 'device/tank//'

async function line(core: TestCore): Promise<MqttClient> {
  const client = await core.client()
  for (const id of [FILLER, CAPPER, TANK])
    await pub(client, `te/${id}`, { '@type': 'child-device', '@parent': 'device/main//' }, true)
  return client
}

async function raise(core: TestCore, client: MqttClient, entity: string, type: string, extra = {}) {
  await pub(
    client,
    `te/${entity}/a/${type}`,
    { severity: 'critical', text: `${type} on ${entity}`, ...extra },
    true,
  )
  return vi.waitFor(async () => {
    const [alarm] = await core.json<AlarmView[]>(
      `/api/v1/alarms?entity=${encodeURIComponent(entity)}&status=active,acknowledged`,
    )
    expect(alarm?.type).toBe(type)
    return alarm as AlarmView
  })
}

const post = (core: TestCore, url: string, body?: unknown) =>
  core.http(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

const audit = (core: TestCore, action: string) =>
  core.json<AuditEntryView[]>(`/api/v1/audit?action=${encodeURIComponent(action)}`)

describe('shelving', () => {
  it('sets an alarm aside for a bounded time with a reason, out of the unacknowledged counts, audited', async () => {
    t = await startCore()
    const client = await line(t)
    const alarm = await raise(t, client, FILLER, 'pressure_low')
    const counts = async () => (await t?.json<EntitySummary>(apiEntity(FILLER)))?.activeAlarms.critical
    expect(await counts()).toBe(1)

    const before = Date.now()
    const shelved = await post(t, `/api/v1/alarms/${alarm.id}/shelve`, {
      minutes: 30,
      reason: 'sensor replaced',
    })
    expect(shelved.status).toBe(200)
    const view = (await shelved.json()) as AlarmView
    expect(view).toMatchObject({ status: 'active', shelvedBy: 'api', shelveReason: 'sensor replaced' })
    expect(view.shelvedUntil).toBeGreaterThanOrEqual(before + 30 * 60_000)
    expect(view.shelvedUntil).toBeLessThanOrEqual(Date.now() + 30 * 60_000)
    expect(await counts()).toBe(0)
    const [entry] = await vi.waitFor(async () => {
      const entries = await audit(t as TestCore, 'alarm.shelve')
      expect(entries).toHaveLength(1)
      return entries
    })
    expect(entry).toMatchObject({
      actor: 'api',
      entity: FILLER,
      target: `alarm/${alarm.id}/pressure_low`,
      after: { shelvedUntil: view.shelvedUntil, reason: 'sensor replaced' },
    })

    const unshelved = await post(t, `/api/v1/alarms/${alarm.id}/unshelve`)
    expect(((await unshelved.json()) as AlarmView).shelvedUntil).toBeNull()
    expect(await counts()).toBe(1)
    await vi.waitFor(async () => expect(await audit(t as TestCore, 'alarm.unshelve')).toHaveLength(1))
  })

  it('refuses a shelf without a reason, outside 5 min to 24 h, of an unknown or cleared alarm', async () => {
    t = await startCore()
    const client = await line(t)
    const alarm = await raise(t, client, FILLER, 'pressure_low')
    const refused = async (url: string, body: unknown, status: number, error: RegExp) => {
      const response = await post(t as TestCore, url, body)
      expect(response.status).toBe(status)
      expect(((await response.json()) as { error: string }).error).toMatch(error)
    }
    const url = `/api/v1/alarms/${alarm.id}/shelve`
    await refused(url, { minutes: 4, reason: 'x' }, 400, /minutes/)
    await refused(url, { minutes: 24 * 60 + 1, reason: 'x' }, 400, /minutes/)
    await refused(url, { minutes: 10 }, 400, /reason/)
    await refused(url, { minutes: 10, reason: '   ' }, 400, /why/)
    await refused(url, { minutes: 10, reason: 'x'.repeat(201) }, 400, /reason/)
    await refused('/api/v1/alarms/999/shelve', { minutes: 10, reason: 'x' }, 404, /not found/)
    await refused(`/api/v1/alarms/${alarm.id}/unshelve`, undefined, 409, /not shelved/)
    await post(t, `/api/v1/alarms/${alarm.id}/clear`)
    await refused(url, { minutes: 10, reason: 'x' }, 409, /cleared/)
    expect(await audit(t, 'alarm.shelve')).toHaveLength(0)
  })

  it('raises shelved again an alarm that clears and comes back while its shelf runs', async () => {
    t = await startCore()
    const client = await line(t)
    const alarm = await raise(t, client, TANK, 'level_low')
    await post(t, `/api/v1/alarms/${alarm.id}/shelve`, { minutes: 60, reason: 'tank being cleaned' })
    await pub(client, `te/${TANK}/a/level_low`, '', true)
    await vi.waitFor(async () =>
      expect((await t?.json<AlarmView>(`/api/v1/alarms/${alarm.id}`))?.status).toBe('cleared'),
    )
    const again = await raise(t, client, TANK, 'level_low', { text: 'low again' })
    expect(again.id).not.toBe(alarm.id)
    expect(again).toMatchObject({ shelveReason: 'tank being cleaned', shelvedBy: 'api' })
    expect(again.shelvedUntil).not.toBeNull()
  })

  it('ends a shelf when its time is up: one due while stopped at start, one running after the restart', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    t = await startCore({ dataDir })
    const client = await line(t)
    const due = await raise(t, client, FILLER, 'pressure_low')
    const running = await raise(t, client, CAPPER, 'torque_low')
    const kept = await raise(t, client, TANK, 'level_low')
    for (const alarm of [due, running, kept])
      expect(
        (await post(t, `/api/v1/alarms/${alarm.id}/shelve`, { minutes: 60, reason: 'maintenance' })).status,
      ).toBe(200)
    await t.stop()

    // Time passes while the core is stopped: the first shelf ran out, the second has 1.5 s left.
    const db = new Database(path.join(dataDir, 'edgetwin.db'))
    const setEnd = db.prepare('UPDATE alarms SET shelved_until = ? WHERE id = ?')
    setEnd.run(Date.now() - 1000, due.id)
    setEnd.run(Date.now() + 1500, running.id)
    db.close()

    t = await startCore({ dataDir })
    const core = t
    const read = (id: number) => core.json<AlarmView>(`/api/v1/alarms/${id}`)
    expect((await read(due.id)).shelvedUntil).toBeNull()
    expect((await read(running.id)).shelvedUntil).not.toBeNull()
    await vi.waitFor(async () => expect((await read(running.id)).shelvedUntil).toBeNull(), { timeout: 5000 })
    expect((await read(kept.id)).shelveReason).toBe('maintenance')
    await vi.waitFor(async () => {
      const expired = await audit(core, 'alarm.shelf-expired')
      expect(expired.map((e) => [e.actor, e.target]).sort()).toEqual(
        [
          ['edgetwin', `alarm/${due.id}/pressure_low`],
          ['edgetwin', `alarm/${running.id}/torque_low`],
        ].sort(),
      )
    })
  })
})

describe('comments', () => {
  it('adds bounded comments with author and time, on open and cleared alarms, audited', async () => {
    t = await startCore()
    const client = await line(t)
    const alarm = await raise(t, client, FILLER, 'pressure_low')
    const url = `/api/v1/alarms/${alarm.id}/comments`
    const before = Date.now()
    const answer = await post(t, url, { text: '  Valve 3 sticks, maintenance called  ' })
    expect(answer.status).toBe(200)
    const [comment] = ((await answer.json()) as AlarmView).comments
    expect(comment).toMatchObject({ author: 'api', text: 'Valve 3 sticks, maintenance called' })
    expect(comment?.time).toBeGreaterThanOrEqual(before)
    await vi.waitFor(async () =>
      expect(await audit(t as TestCore, 'alarm.comment')).toMatchObject([
        { actor: 'api', after: { text: comment?.text } },
      ]),
    )

    expect((await post(t, url, { text: '' })).status).toBe(400)
    expect((await post(t, url, { text: ' ' })).status).toBe(400)
    expect((await post(t, url, { text: 'x'.repeat(501) })).status).toBe(400)
    expect((await post(t, url, {})).status).toBe(400)

    await post(t, `/api/v1/alarms/${alarm.id}/clear`)
    for (let k = 2; k <= 50; k++) expect((await post(t, url, { text: `note ${k}` })).status).toBe(200)
    const full = await post(t, url, { text: 'one too many' })
    expect(full.status).toBe(409)
    expect(((await full.json()) as { error: string }).error).toMatch(/50 comments/)
    const stored = await t.json<AlarmView>(`/api/v1/alarms/${alarm.id}`)
    expect(stored.status).toBe('cleared')
    expect(stored.comments).toHaveLength(50)
    expect(stored.comments.at(-1)?.text).toBe('note 50')
  })
})

describe('first-out and raise history', () => {
  it('marks the first alarm of a burst on a line, not a lone one; counts and keeps the raise times', async () => {
    t = await startCore()
    const client = await line(t)
    const start = Date.parse('2026-05-01T08:00:00Z')
    const at = (s: number) => new Date(start + s * 1000).toISOString()
    const first = await raise(t, client, FILLER, 'pressure_low', { time: at(0) })
    expect(first.firstOut).toBe(false) // alone so far
    const second = await raise(t, client, CAPPER, 'torque_low', { time: at(3) })
    expect(second.firstOut).toBe(false)
    await vi.waitFor(async () =>
      expect((await t?.json<AlarmView>(`/api/v1/alarms/${first.id}`))?.firstOut).toBe(true),
    )
    const lone = await raise(t, client, TANK, 'level_low', { time: at(60) })
    expect(lone.firstOut).toBe(false)

    await pub(
      client,
      `te/${FILLER}/a/pressure_low`,
      { severity: 'critical', text: 'again', time: at(90) },
      true,
    )
    await pub(
      client,
      `te/${FILLER}/a/pressure_low`,
      { severity: 'critical', text: 'and again', time: at(120) },
      true,
    )
    await vi.waitFor(async () => {
      const alarm = await t?.json<AlarmView>(`/api/v1/alarms/${first.id}`)
      expect(alarm?.count).toBe(3)
      expect(alarm?.occurrences).toEqual([start, start + 90_000, start + 120_000])
      expect(alarm?.firstOut).toBe(true)
    })
  })
})
