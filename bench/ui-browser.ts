// Chromium for the UI phases (h–k): Debian's build, headless, driven by playwright-core, logged in
// to a core the way a user is (a one-time login URL ending in the session cookie).
import type { Browser, BrowserContext } from 'playwright-core'
import type { CoreReady } from './processes'

/** The screen the UI phases measure on: a laptop's, in desktop mode. */
export const VIEWPORT = { width: 1280, height: 800 }

/** A fresh one-time login URL from the core (as the desktop shell gets one). */
export async function loginUrl(ready: CoreReady): Promise<string> {
  const response = await fetch(new URL('/api/v1/login-codes', ready.http), {
    method: 'POST',
    headers: { authorization: `Bearer ${ready.token}` },
  })
  if (!response.ok) throw new Error(`POST /api/v1/login-codes: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { url: string }).url
}

/**
 * A new browser context holding a session cookie: a page opens a login URL, which redirects to the
 * app once the cookie is set, and is closed again. Pages opened afterwards start logged in.
 */
export async function loggedInContext(browser: Browser, ready: CoreReady): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: VIEWPORT })
  context.setDefaultTimeout(30_000)
  // The bench runs under tsx, whose esbuild keeps function names by wrapping inner functions in
  // __name(fn, "name"); functions sent to the page carry those calls, so the page needs the helper.
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn' })
  const page = await context.newPage()
  await page.goto(await loginUrl(ready))
  const cookies = await context.cookies()
  if (!cookies.some((c) => c.name === 'edgetwin_session'))
    throw new Error(`no session cookie after the login URL (at ${page.url()})`)
  await page.close()
  return context
}

/** Sorted copy; median and max of a non-empty list. */
export function summarize(values: number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)] as number,
    max: sorted[sorted.length - 1] as number,
  }
}
