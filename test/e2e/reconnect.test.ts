// The core goes away and comes back on the same data dir and ports: the open page says it is
// offline, reconnects by itself and shows live values again, with the same session.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { browser, connection, loggedIn, overviewIsLive, portOf, type Served, serve, shot } from './harness'

let first: Served
let second: Served | undefined
let third: Served | undefined
let chrome: Browser

beforeAll(async () => {
  ;[first, chrome] = await Promise.all([serve(), browser()])
})

afterAll(async () => {
  await chrome?.close()
  await third?.stop()
  await second?.stop()
  // The first core owns the data dir: it goes last.
  await first?.stop()
})

/** What the tests read of the page's globals (this file is compiled without the DOM's types). */
type InPage = { navigator: { serviceWorker: { controller: object | null } }; location: { hash: string } }

/** Every live reading on the overview's device cards, in order. */
const readings = (page: Page) =>
  page
    .getByRole('main')
    .getByRole('article')
    .getByRole('definition')
    .evaluateAll((values) => values.map((value) => value.textContent?.trim() ?? ''))

describe('losing and regaining the core', () => {
  it('shows the page offline while the core is down, then reconnects by itself to live data', async () => {
    const { context, page } = await loggedIn(chrome, first)

    const exited = new Promise((resolve) => first.child.once('exit', resolve))
    first.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    await connection(page).filter({ hasText: 'Offline' }).waitFor()
    await page.getByText('Core not connected').waitFor()
    await page.getByText('Services as last known: the core is not connected.').waitFor()
    await page.screenshot({ path: shot('offline') })
    const stale = await readings(page)

    second = await serve([], {
      dataDir: first.dataDir,
      httpPort: portOf(first.http),
      mqttPort: portOf(first.mqtt),
    })
    expect(second.http).toBe(first.http)
    // The retry after the next back-off step (at most 5 s here) finds it; the session cookie is
    // still good, since sessions live in the data dir.
    await connection(page).filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 })
    await page.getByText('Core connected').waitFor()
    await vi.waitFor(
      async () => {
        const fresh = await readings(page)
        expect(fresh.length).toBe(stale.length)
        expect(fresh).not.toEqual(stale)
      },
      { timeout: 15_000, interval: 250 },
    )
    expect(new URL(page.url()).hash).not.toContain('login')
    await page.screenshot({ path: shot('reconnected') })
    await context.close()
  })

  it('keeps on-demand screens and fresh page loads working across a restart, and waits for EdgeTwin by itself', async () => {
    const core = second as Served
    // The worker and its waiting page: public, under the page's own CSP, checked again on each load;
    // the worker leaves API answers alone.
    for (const [path, type] of [
      ['/sw.js', /javascript/],
      ['/waiting.html', /text\/html/],
      ['/waiting.js', /javascript/],
    ] as const) {
      const answer = await fetch(new URL(path, core.http))
      expect(answer.status, path).toBe(200)
      expect(answer.headers.get('content-type'), path).toMatch(type)
      expect(answer.headers.get('cache-control'), path).toBe('no-cache')
      expect(answer.headers.get('content-security-policy'), path).toContain("script-src 'self'")
      const text = await answer.text()
      if (path === '/sw.js') expect(text).toContain("url.pathname.startsWith('/api/')")
      if (path === '/waiting.html') expect(text).not.toMatch(/<script>/)
    }
    const { context, page } = await loggedIn(chrome, core)
    // The service worker keeps the UI's files once it controls the page.
    await vi.waitFor(
      async () =>
        expect(
          await page.evaluate(
            () => (globalThis as unknown as InPage).navigator.serviceWorker.controller !== null,
          ),
        ).toBe(true),
      { timeout: 10_000, interval: 100 },
    )

    // A device's commands, on screen when the core goes away.
    await page.evaluate(() => {
      ;(globalThis as unknown as InPage).location.hash = `#/entity/${encodeURIComponent('device/filler//')}`
    })
    await page.getByRole('tab', { name: 'Operations' }).click()
    const restart = page.getByRole('button', { name: 'Restart…' })
    await restart.waitFor()
    expect(await restart.getAttribute('aria-disabled')).toBeNull()

    const exited = new Promise((resolve) => core.child.once('exit', resolve))
    core.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    await connection(page).filter({ hasText: 'Offline' }).waitFor()
    // Greyed out with the reason, as an HMI does when it loses communication; pressed, it says why.
    await vi.waitFor(async () => expect(await restart.getAttribute('aria-disabled')).toBe('true'))
    expect(await restart.getAttribute('title')).toBe('EdgeTwin is not connected')
    await restart.click({ force: true })
    await page.getByText('EdgeTwin is not connected: commands are unavailable until it is back.').waitFor()
    expect(await page.getByRole('dialog').count()).toBe(0)
    await page.screenshot({ path: shot('offline-commands') })

    // An on-demand screen opened while the core is down: its code loads, its data says what is wrong.
    await page.evaluate(() => {
      ;(globalThis as unknown as InPage).location.hash = '#/operations'
    })
    await page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor()
    await page.getByText('EdgeTwin did not answer').first().waitFor()
    expect(await page.getByText(/preload|Failed to fetch/).count()).toBe(0)

    // A page loaded while the core is down (a kiosk rebooted first) waits instead of the browser's
    // error page.
    const fresh = await context.newPage()
    await fresh.goto(new URL('/?kiosk=1', core.http).href)
    await fresh.getByRole('heading', { name: 'Waiting for EdgeTwin…' }).waitFor()
    await fresh.screenshot({ path: shot('waiting-for-edgetwin') })

    third = await serve([], {
      dataDir: first.dataDir,
      httpPort: portOf(core.http),
      mqttPort: portOf(core.mqtt),
    })
    // Both recover by themselves: the waiting page opens the app, the open page goes live and the
    // Operations screen shows the history again.
    await overviewIsLive(fresh)
    await connection(page).filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 })
    await page.getByRole('table').first().waitFor()
    expect(await page.getByText('EdgeTwin did not answer').count()).toBe(0)
    await context.close()
  })
})
