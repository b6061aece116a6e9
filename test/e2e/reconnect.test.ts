// The core goes away and comes back on the same data dir and ports: the open page says it is
// offline, reconnects by itself and shows live values again, with the same session.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { browser, connection, loggedIn, portOf, type Served, serve, shot } from './harness'

let first: Served
let second: Served | undefined
let chrome: Browser

beforeAll(async () => {
  ;[first, chrome] = await Promise.all([serve(), browser()])
})

afterAll(async () => {
  await chrome?.close()
  await second?.stop()
  // The first core owns the data dir: it goes last.
  await first?.stop()
})

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
})
