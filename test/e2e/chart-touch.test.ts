// A chart zoomed by fingers on a phone (390×844): one finger drags the time axis, two fingers pinch
// it; Chromium turns the touches into the pointer events a real touchscreen gives.
import type { Browser, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { browser, loggedIn, type Served, serve, shot } from './harness'

let served: Served
let chrome: Browser

beforeAll(async () => {
  ;[served, chrome] = await Promise.all([serve(), browser()])
})

afterAll(async () => {
  await chrome?.close()
  await served?.stop()
})

type Point = { x: number; y: number }

/** Fingers moving from `from` to `to` in steps, as a touchscreen reports them. */
async function gesture(cdp: CDPSession, from: Point[], to: Point[], steps = 8): Promise<void> {
  const at = (k: number) =>
    from.map((p, id) => {
      const q = to[id] as Point
      return { x: p.x + ((q.x - p.x) * k) / steps, y: p.y + ((q.y - p.y) * k) / steps, id }
    })
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) })
  for (let k = 1; k <= steps; k++)
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(k) })
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
}

/** The windows the page asked series for, in order. */
function seriesWindows(page: Page): Array<{ from: number; to: number }> {
  const windows: Array<{ from: number; to: number }> = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (!/^\/api\/v1\/series\/\d+$/.test(url.pathname)) return
    windows.push({ from: Number(url.searchParams.get('from')), to: Number(url.searchParams.get('to')) })
  })
  return windows
}

/** The chart shows the data of its window (the status line says what it shows, not "Loading…"). */
const loaded = (page: Page) =>
  vi.waitFor(
    async () => expect(await page.locator('.measurements p.status').textContent()).toMatch(/^Showing /),
    { timeout: 5000 },
  )

describe('chart zoom by touch', () => {
  it('pans with one finger and zooms with two on a phone, and the chart uses the width', async () => {
    const { context, page } = await loggedIn(chrome, served, {
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    })
    const windows = seriesWindows(page)
    await page.goto(new URL(`/#/entity/${encodeURIComponent('device/conveyor-drive//')}`, served.http).href)
    await page.getByRole('tab', { name: /^Measurements/ }).click()
    await page.getByRole('button', { name: '1 h' }).click()
    const chart = page.getByRole('img', { name: /^Chart of 3 series of Conveyor Drive VFD, .*raw values/ })
    await chart.waitFor()
    // The chart is drawn again once its data is in: scroll to the one that stays.
    await loaded(page)
    const plot = page.locator('.u-over')
    await plot.scrollIntoViewIfNeeded()
    const box = (await plot.boundingBox()) as { x: number; y: number; width: number; height: number }
    // Two compact axes leave the plot most of the card's width (three full axes left about 70 px).
    expect(box.width).toBeGreaterThan(220)
    await page.screenshot({ path: shot('chart-phone-before-touch') })
    const hour = windows.at(-1) as { from: number; to: number }
    expect(hour.to - hour.from).toBe(3_600_000)

    const cdp = await context.newCDPSession(page)
    const y = box.y + box.height / 2
    // One finger from the middle to the right: the chart shows earlier times, the span unchanged.
    const before = windows.length
    await gesture(cdp, [{ x: box.x + box.width * 0.3, y }], [{ x: box.x + box.width * 0.8, y }])
    await page.getByRole('button', { name: 'Reset zoom' }).waitFor()
    await vi.waitFor(() => expect(windows.length).toBeGreaterThan(before), { timeout: 5000 })
    const panned = windows.at(-1) as { from: number; to: number }
    expect(panned.to - panned.from).toBeCloseTo(3_600_000, -3)
    expect(panned.to).toBeLessThan(hour.to - 1_200_000)

    // Two fingers spread to twice their distance: half the span, around the same middle. The chart
    // is drawn again for the panned window first (a new plot under the fingers).
    await loaded(page)
    const afterPan = windows.length
    const cx = box.x + box.width / 2
    await gesture(
      cdp,
      [
        { x: cx - box.width * 0.15, y },
        { x: cx + box.width * 0.15, y },
      ],
      [
        { x: cx - box.width * 0.3, y },
        { x: cx + box.width * 0.3, y },
      ],
    )
    await vi.waitFor(() => expect(windows.length).toBeGreaterThan(afterPan), { timeout: 5000 })
    const pinched = windows.at(-1) as { from: number; to: number }
    expect((pinched.to - pinched.from) / (panned.to - panned.from)).toBeCloseTo(0.5, 1)
    const middle = (w: { from: number; to: number }) => (w.from + w.to) / 2
    expect(Math.abs(middle(pinched) - middle(panned))).toBeLessThan(60_000)
    await loaded(page)
    await page.screenshot({ path: shot('chart-phone-after-pinch') })
    await context.close()
  })
})
