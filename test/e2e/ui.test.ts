// The UI as a user meets it: `edgetwin serve` with the simulated line, real Chromium. Login and
// logout, the equipment tree by keyboard and pointer, a live chart, an alarm acknowledged after a
// confirmation and found in the audit trail.
import { readFile } from 'node:fs/promises'
import mqtt from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AuditEntryView } from '../../src-main/core/api/types'
import { browser, connection, loggedIn, overviewIsLive, type Served, serve, shot } from './harness'

let served: Served
let chrome: Browser

beforeAll(async () => {
  ;[served, chrome] = await Promise.all([serve(), browser()])
})

afterAll(async () => {
  await chrome?.close()
  await served?.stop()
})

const VALVE_BANK_URL = `#/entity/${encodeURIComponent('device/valve-bank//')}`

/** A tree item by the entity's name: its accessible name starts with it (then health and alarms). */
const treeItem = (page: Page, name: string) =>
  page.getByRole('tree', { name: 'Equipment' }).getByRole('treeitem', { name: new RegExp(`^${name},`) })

/** The accessible name of the tree item the keyboard is on (the tree's aria-activedescendant). */
const activeItem = (page: Page) =>
  page
    .getByRole('tree', { name: 'Equipment' })
    .evaluate(
      (tree) =>
        tree.ownerDocument.getElementById(tree.getAttribute('aria-activedescendant') ?? '')?.ariaLabel ?? '',
    )

/** Clicks Export CSV and reads the file the browser saved. */
async function exportCsv(page: Page): Promise<string[]> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ])
  const text = await readFile(await download.path(), 'utf8')
  return text.split('\r\n').filter(Boolean)
}

describe('the UI against edgetwin serve', () => {
  it('logs in with the printed one-time URL, leaving no code in the address bar and the session in an HttpOnly cookie', async () => {
    const context = await chrome.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    await page.goto(served.printedLogin)
    await overviewIsLive(page)

    const code = new URL(served.printedLogin).searchParams.get('code') ?? ''
    expect(code).not.toBe('')
    const address = new URL(page.url())
    expect(address.pathname).toBe('/')
    expect(address.search).toBe('')
    expect(page.url()).not.toContain(code)
    expect(await context.cookies()).toEqual([
      expect.objectContaining({ name: 'edgetwin_session', httpOnly: true, sameSite: 'Strict', path: '/' }),
    ])
    // The page's scripts can read neither the cookie nor any credential from storage.
    const visible = await page.locator('html').evaluate((root) => {
      const window = root.ownerDocument.defaultView
      return { cookie: root.ownerDocument.cookie, storage: JSON.stringify({ ...window?.localStorage }) }
    })
    expect(visible.cookie).toBe('')
    expect(visible.storage).not.toContain(served.token)
    expect(visible.storage).not.toContain(code)
    await page.screenshot({ path: shot('overview') })
    // The page scrolls inside <main>: its lower half (recent events) as a second picture.
    await page.getByRole('region', { name: 'Recent events' }).scrollIntoViewIfNeeded()
    await page.screenshot({ path: shot('overview-scrolled') })

    // The code was good once: another browser using it lands on the login page.
    const other = await chrome.newContext()
    const again = await other.newPage()
    await again.goto(served.printedLogin)
    await again.getByText('That login link was already used or has expired.').waitFor()
    expect(new URL(again.url()).hash).toBe('#/login/expired')
    await again.screenshot({ path: shot('login-expired') })
    expect(await other.cookies()).toEqual([])
    await Promise.all([context.close(), other.close()])
  })

  it('walks the equipment tree by keyboard and pointer and opens the nested child device', async () => {
    const { context, page } = await loggedIn(chrome, served)
    const filter = page.getByRole('searchbox', { name: 'Filter equipment by name or type' })
    const tree = page.getByRole('tree', { name: 'Equipment' })

    // The tree is one tab stop after the filter; the keyboard starts on the main device.
    await filter.click()
    await page.keyboard.press('Tab')
    expect(await tree.evaluate((element) => element.ownerDocument.activeElement === element)).toBe(true)
    expect(await activeItem(page)).toMatch(/^Filling Line 3,/)

    // Down past the tank (and its agent service) to the filler.
    for (let step = 0; step < 4 && !/^Filler PLC,/.test(await activeItem(page)); step++) {
      await page.keyboard.press('ArrowDown')
    }
    expect(await activeItem(page)).toMatch(/^Filler PLC,/)
    const filler = treeItem(page, 'Filler PLC')
    expect(await filler.getAttribute('aria-expanded')).toBe('true')
    await page.keyboard.press('ArrowLeft')
    expect(await filler.getAttribute('aria-expanded')).toBe('false')
    expect(await treeItem(page, 'Fill Valve Bank').count()).toBe(0)
    await page.keyboard.press('ArrowRight')
    expect(await filler.getAttribute('aria-expanded')).toBe('true')
    await page.keyboard.press('ArrowRight')
    expect(await activeItem(page)).toMatch(/^Fill Valve Bank,/)
    expect(await treeItem(page, 'Fill Valve Bank').getAttribute('aria-level')).toBe('3')
    await page.screenshot({ path: shot('tree') })

    await page.keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Fill Valve Bank' }).waitFor()
    expect(new URL(page.url()).hash).toBe(VALVE_BANK_URL)
    expect(await treeItem(page, 'Fill Valve Bank').getAttribute('aria-current')).toBe('page')

    // The pointer: the twisty folds a subtree away and opens it again.
    const conveyor = treeItem(page, 'Outfeed Conveyor')
    await conveyor.locator('.twisty').click()
    expect(await conveyor.getAttribute('aria-expanded')).toBe('false')
    expect(await treeItem(page, 'Conveyor Drive VFD').count()).toBe(0)
    await conveyor.locator('.twisty').click()
    await treeItem(page, 'Conveyor Drive VFD').waitFor()

    // The filter matches names and types and keeps the ancestors of a match.
    const count = page.getByRole('navigation', { name: 'Equipment' }).getByRole('status')
    await filter.fill('valve')
    await count.filter({ hasText: /^1 of \d+ match$/ }).waitFor()
    const names = async () =>
      (await tree.getByRole('treeitem').evaluateAll((items) => items.map((i) => i.ariaLabel ?? ''))).map(
        (label) => label.split(',')[0],
      )
    expect(await names()).toEqual(['Filling Line 3', 'Filler PLC', 'Fill Valve Bank'])
    await filter.fill('service')
    await count.filter({ hasText: /^10 of \d+ match$/ }).waitFor()
    await filter.fill('')
    await treeItem(page, 'Capper').waitFor()
    await context.close()
  })

  it('shows live points arriving on the chart of the nested child device', async () => {
    const { context, page } = await loggedIn(chrome, served)
    await page.getByRole('main').getByRole('link', { name: 'Fill Valve Bank' }).click()
    await page.getByRole('heading', { level: 1, name: 'Fill Valve Bank' }).waitFor()
    await page.getByRole('tab', { name: /^Measurements/ }).click()
    // All six valves are charted together (as bars: ask for lines); the sixth is left out.
    await page.getByRole('button', { name: 'Lines' }).click()
    await page.getByRole('checkbox', { name: /^Valves v6 / }).uncheck()
    const chart = page.getByRole('img', {
      name: /^Chart of 5 series of Fill Valve Bank, live, last 5 minutes$/,
    })
    await chart.waitFor()
    await page.getByRole('button', { name: 'Live', pressed: true }).waitFor()

    // The fifth series' history may still be loading when the chart first shows: export once it is in.
    let first: string[] = []
    await expect
      .poll(async () => {
        first = await exportCsv(page)
        return first[0]?.split(',')
      })
      .toEqual(['time', ...[1, 2, 3, 4, 5].map((n) => `valves.v${n} [L/min]`)])
    const lastTime = (rows: string[]) => Date.parse(rows.at(-1)?.split(',')[0] ?? '')
    let later: string[] = []
    await vi.waitFor(
      async () => {
        later = await exportCsv(page)
        expect(later.length).toBeGreaterThan(first.length)
        expect(lastTime(later)).toBeGreaterThan(lastTime(first))
      },
      { timeout: 15_000, interval: 1_000 },
    )
    // The newest row is seconds old, and every charted series has a value in it.
    expect(Date.now() - lastTime(later)).toBeLessThan(10_000)
    expect(
      later
        .at(-1)
        ?.split(',')
        .slice(1)
        .every((cell) => Number.isFinite(Number.parseFloat(cell))),
    ).toBe(true)
    await page.screenshot({ path: shot('entity-live-chart') })
    await context.close()
  })

  it('charts a device that starts measuring while its page is open', async () => {
    const { context, page } = await loggedIn(chrome, served)
    const client = await mqtt.connectAsync(served.mqtt, { clientId: 'e2e-new-device' })
    try {
      await client.publishAsync(
        'te/device/e2e-sensor//',
        JSON.stringify({ '@type': 'child-device', '@parent': 'device/filler//', name: 'E2E Sensor' }),
        { qos: 1, retain: true },
      )
      await treeItem(page, 'E2E Sensor').click()
      await page.getByRole('heading', { level: 1, name: 'E2E Sensor' }).waitFor()
      await page.getByRole('tab', { name: 'Twin & profile', selected: true }).waitFor()
      await client.publishAsync('te/device/e2e-sensor///m/env', JSON.stringify({ temperature: 21.5 }))
      await page.getByRole('tab', { name: 'Measurements (1)' }).click()
      await page.getByRole('img', { name: /^Chart of 1 series of E2E Sensor, live/ }).waitFor()
    } finally {
      await client.endAsync()
    }
    await context.close()
  })

  it('acknowledges an alarm after a confirmation and the audit trail records it as done in the UI', async () => {
    const { context, page } = await loggedIn(chrome, served)
    const client = await mqtt.connectAsync(served.mqtt, { clientId: 'e2e-alarm' })
    try {
      await client.publishAsync(
        'te/device/filler///a/e2e_test',
        JSON.stringify({ text: 'E2E test alarm', severity: 'critical' }),
        { qos: 1, retain: true },
      )
    } finally {
      await client.endAsync()
    }
    // The banner shows the worst unacknowledged alarm: ours, or a critical the simulated line raised.
    await page
      .getByRole('alert')
      .filter({ hasText: /^\s*critical alarm/ })
      .waitFor()
    const banner = page.getByRole('alert').filter({ hasText: 'Filler PLC: E2E test alarm' })
    // The simulated line may have raised alarms of its own by now: only ours is certain.
    await page.getByRole('link', { name: /^Alarms: .*\d+ critical open/ }).click()
    await page.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor()
    await page.screenshot({ path: shot('alarms') })

    await page.getByRole('checkbox', { name: 'Select critical alarm e2e_test on Filler PLC' }).check()
    await page.getByRole('button', { name: 'Acknowledge 1' }).click()
    const dialog = page.getByRole('dialog', { name: 'Acknowledge 1 alarm?' })
    await dialog.waitFor()
    await page.screenshot({ path: shot('confirm-dialog') })
    await dialog.getByRole('button', { name: 'Acknowledge' }).click()
    await page.getByRole('status').filter({ hasText: 'Acknowledged 1 alarm.' }).waitFor()
    await page.getByRole('row', { name: /E2E test alarm.*acknowledged by ui/ }).waitFor()
    await banner.waitFor({ state: 'detached' })

    const response = await fetch(new URL('/api/v1/audit?action=alarm.acknowledge', served.http), {
      headers: { authorization: `Bearer ${served.token}` },
    })
    expect(response.status).toBe(200)
    const entries = (await response.json()) as AuditEntryView[]
    expect(entries).toContainEqual(
      expect.objectContaining({
        actor: 'ui',
        action: 'alarm.acknowledge',
        entity: 'device/filler//',
        target: expect.stringMatching(/^alarm\/\d+\/e2e_test$/),
        before: { status: 'active' },
        after: { status: 'acknowledged' },
      }),
    )

    await page.getByRole('button', { name: 'Menu' }).click()
    await page.getByRole('link', { name: 'Audit trail' }).click()
    await page.getByRole('heading', { level: 1, name: 'Audit trail' }).waitFor()
    await page.getByRole('row', { name: /ui alarm\.acknowledge Filler PLC alarm\/\d+\/e2e_test/ }).waitFor()
    await page.screenshot({ path: shot('audit') })
    await context.close()
  })

  it('logs out to the login page, and logs in again with the API token', async () => {
    const { context, page } = await loggedIn(chrome, served)
    await page.getByRole('button', { name: 'Menu' }).click()
    await page.getByRole('button', { name: 'Log out' }).click()
    const token = page.getByLabel('API token')
    await token.waitFor()
    expect(await context.cookies()).toEqual([])
    await page.reload()
    await token.waitFor()
    await page.getByRole('heading', { level: 1, name: 'EdgeTwin' }).waitFor()
    await page.screenshot({ path: shot('login') })

    await token.fill(served.token)
    await page.getByRole('button', { name: 'Log in' }).click()
    await overviewIsLive(page)
    expect(await connection(page).textContent()).toBe('Live')
    await context.close()
  })
})
