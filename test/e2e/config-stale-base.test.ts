// The simulated capper's configuration changed twice in a row in the UI: the second edit starts
// from the version the first one stored, so the first change (torque 3.2 → 4.2) is never undone;
// an edit overtaken by another client's update is refused and shown, and only its own change goes out.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import type { ConfigVersionDetail, ConfigVersionView, OperationView } from '../../src-main/core/api/types'
import { browser, loggedIn, type Served, serve, shot } from './harness'

let served: Served
let chrome: Browser

beforeAll(async () => {
  ;[served, chrome] = await Promise.all([serve(['--sim-faults', '0']), browser()])
})

afterAll(async () => {
  await chrome?.close()
  await served?.stop()
})

const CAPPER = encodeURIComponent('device/capper//')
const CONFIG = `/api/v1/entities/${CAPPER}/configs/capper.conf`

async function api<T>(pathname: string, body?: unknown): Promise<T> {
  const response = await fetch(new URL(pathname, served.http), {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${served.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

/** The latest stored version of capper.conf once there are `count` versions. */
async function version(count: number): Promise<ConfigVersionDetail> {
  let latest: ConfigVersionView | undefined
  await vi.waitFor(
    async () => {
      const versions = await api<ConfigVersionView[]>(`${CONFIG}/versions`)
      expect(versions).toHaveLength(count)
      latest = versions[0]
    },
    { timeout: 20_000, interval: 100 },
  )
  return api<ConfigVersionDetail>(`/api/v1/config-versions/${latest?.id}`)
}

/** Another client's update, from the latest version, finished. */
async function updateByApi(count: number, change: (content: string) => string): Promise<ConfigVersionDetail> {
  const latest = await version(count)
  await api<OperationView>(CONFIG, { content: change(latest.content), baseVersion: latest.id })
  return version(count + 1)
}

async function review(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Review changes' }).click()
  const region = page.getByRole('region', { name: 'Review the changes to capper.conf before sending' })
  await region.waitFor()
  return (await region.textContent()) ?? ''
}

it('an update followed by a tolerance-only edit keeps the new torque, and a stale send is refused and shown', async () => {
  // Version 1 read from the device (torque 2.2), version 2 with torque 3.2 as the report found it.
  // The simulated capper declares its operations a few seconds after the start.
  await vi.waitFor(
    () =>
      api<OperationView>(`/api/v1/entities/${CAPPER}/operations`, {
        operation: 'config_snapshot',
        payload: { type: 'capper.conf' },
      }),
    { timeout: 20_000, interval: 200 },
  )
  const v2 = await updateByApi(1, (c) => c.replace(/target_torque_nm = [\d.]+/, 'target_torque_nm = 3.2'))
  expect(v2.content).toContain('torque_tolerance_nm = 0.3')

  const { context, page } = await loggedIn(chrome, served)
  const sent: { content: string; baseVersion: number | null }[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith(CONFIG)) sent.push(request.postDataJSON())
  })
  await page.goto(`${served.http}/#/entity/${CAPPER}`)
  await page.getByRole('heading', { level: 1, name: 'Capper' }).waitFor()
  await page.getByRole('tab', { name: 'Operations' }).click()
  await page
    .getByRole('group', { name: 'Operation to run' })
    .getByRole('button', { name: /config update/i })
    .click()
  const editor = page.getByRole('textbox', { name: 'Content' })
  await expect.poll(() => editor.inputValue(), { timeout: 10_000 }).toBe(v2.content)

  // Update A: torque 3.2 → 4.2.
  await editor.fill(v2.content.replace('target_torque_nm = 3.2', 'target_torque_nm = 4.2'))
  expect(await review(page)).toContain('From version 2 to your edit: 1 line added, 1 line removed.')
  await page.getByRole('button', { name: 'Send configuration' }).click()
  const v3 = await version(3)
  expect(v3.content).toContain('target_torque_nm = 4.2')

  // The editor starts from version 3, the one just applied.
  await expect
    .poll(() => editor.getAttribute('aria-describedby').then((id) => page.locator(`#${id}`).textContent()), {
      timeout: 10_000,
    })
    .toMatch(/^Starts from version 3 /)
  expect(await editor.inputValue()).toBe(v3.content)

  // Edit B changes only the tolerance: the review shows only that line, and torque 4.2 goes out.
  await editor.fill(
    (await editor.inputValue()).replace('torque_tolerance_nm = 0.3', 'torque_tolerance_nm = 0.4'),
  )
  const b = await review(page)
  expect(b).toContain('From version 3 to your edit: 1 line added, 1 line removed.')
  expect(b).toContain('Removed: torque_tolerance_nm = 0.3+Added: torque_tolerance_nm = 0.4')
  expect(b).toMatch(/[^−+]target_torque_nm = 4\.2/)
  await page.screenshot({ path: shot('config-second-edit-review') })
  await page.getByRole('button', { name: 'Send configuration' }).click()
  const v4 = await version(4)
  expect(sent[1]).toEqual({ content: v4.content, baseVersion: v3.id })
  expect(v4.content).toContain('target_torque_nm = 4.2')
  expect(v4.content).toContain('torque_tolerance_nm = 0.4')
  await expect.poll(() => editor.inputValue(), { timeout: 10_000 }).toBe(v4.content)

  // Edit C (chuck speed) is reviewed; another client turns the cap feed check off before it is sent.
  await editor.fill(v4.content.replace('chuck_speed_rpm = 320', 'chuck_speed_rpm = 330'))
  await review(page)
  const v5 = await updateByApi(4, (c) => c.replace('cap_feed_check = on', 'cap_feed_check = off'))
  await page.getByRole('button', { name: 'Send configuration' }).click()
  const conflict = page.getByRole('region', {
    name: "The device's configuration changed since you started editing",
  })
  await conflict.waitFor()
  expect(await conflict.textContent()).toContain('the device now has version 5')
  await page.screenshot({ path: shot('config-stale-send') })
  expect(sent.at(-1)?.baseVersion).toBe(v4.id)

  await conflict.getByRole('button', { name: 'Apply only my changes to version 5 (current)' }).click()
  const merged = page.getByRole('region', { name: 'Review the changes to capper.conf before sending' })
  expect(await merged.textContent()).toContain('From version 5 to your edit: 1 line added, 1 line removed.')
  await page.getByRole('button', { name: 'Send configuration' }).click()
  const v6 = await version(6)
  expect(sent.at(-1)?.baseVersion).toBe(v5.id)
  expect(v6.content).toBe(v5.content.replace('chuck_speed_rpm = 320', 'chuck_speed_rpm = 330'))
  expect(v6.content).toContain('target_torque_nm = 4.2')
  await context.close()
})
