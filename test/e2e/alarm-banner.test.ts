// The alarm banner at a 1280×800 kiosk: the worst unacknowledged alarm, flashing, with the horn
// armed by a tap; the alarms table fits the kiosk and becomes cards on a phone. Screenshots of
// both phases of the flash are kept to look at.
import mqtt from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

async function raise(topic: string, severity: string, text: string) {
  const client = await mqtt.connectAsync(served.mqtt, { reconnectPeriod: 0 })
  await client.publishAsync(topic, JSON.stringify({ severity, text }), { qos: 1, retain: true })
  await client.endAsync()
}

/** Freezes every running animation at `ms` into its cycle, so a screenshot shows one phase. */
function freezeAnimations(page: Page, ms: number): Promise<void> {
  return page.locator('html').evaluate((root, at) => {
    for (const animation of root.ownerDocument.getAnimations()) {
      animation.pause()
      animation.currentTime = at
    }
  }, ms)
}

/** A computed style of the element the locator finds. */
function styleOf(locator: ReturnType<Page['locator']>, property: 'animationName' | 'boxShadow' | 'display') {
  return locator.evaluate(
    (element, name) => element.ownerDocument.defaultView?.getComputedStyle(element)[name],
    property,
  )
}

/** Elements of the main area that cut their content or reach past the screen's right edge. */
function clipped(page: Page): Promise<string[]> {
  return page.locator('main').evaluate((main) => {
    const view = main.ownerDocument.defaultView
    if (!view) return ['no window']
    const found: string[] = []
    for (const element of [main, ...main.querySelectorAll('*')]) {
      // What is hidden on purpose for screen readers only (clipped to nothing) is not cut off.
      let hidden = false
      for (let e: typeof element | null = element; e && !hidden; e = e.parentElement)
        hidden = view.getComputedStyle(e).clipPath !== 'none'
      if (hidden) continue
      const style = view.getComputedStyle(element)
      const name = `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}`
      if (
        (style.overflowX === 'auto' || style.overflowX === 'hidden') &&
        element.scrollWidth > element.clientWidth + 1
      )
        found.push(`${name} cuts ${element.scrollWidth - element.clientWidth} px`)
      const box = element.getBoundingClientRect()
      if (box.width > 0 && box.right > view.innerWidth + 1)
        found.push(`${name} reaches ${Math.round(box.right)} px`)
    }
    return found
  })
}

describe('alarms at a kiosk and on a phone', () => {
  it('flashes the worst unacknowledged alarm on the kiosk, sounds after a tap, and the table fits', async () => {
    const { context, page } = await loggedIn(chrome, served, {
      viewport: { width: 1280, height: 800 },
      hasTouch: true,
    })
    await page.goto(`${served.http}/?kiosk=1`)
    await page.locator('html[data-kiosk="true"]').waitFor({ state: 'attached' })

    await raise(
      'te/device/conveyor-drive///a/e2e_overtemperature',
      'critical',
      'Motor over-temperature: 96 °C',
    )
    // Newer but less severe: the banner must keep showing a critical alarm.
    await raise('te/device/tank///a/e2e_level', 'major', 'Buffer tank level low: 9 %')
    const banner = page.getByRole('alert').filter({ hasText: /alarm/ })
    await banner.getByRole('link', { name: /^and \d+ more$/ }).waitFor()
    await expect.poll(() => banner.textContent()).toMatch(/^\s*critical alarm/)
    expect(await banner.getAttribute('class')).toMatch(/\bflash\b/)
    expect(await styleOf(banner, 'animationName')).toBe('alarm-flash')

    // The horn: a kiosk has it on, but the browser allows sound only after a gesture.
    await page.getByRole('button', { name: 'Tap to enable sound' }).tap()
    await page.getByRole('button', { name: 'Silence' }).waitFor()
    expect(await page.evaluate(() => 'AudioContext' in globalThis)).toBe(true)

    await freezeAnimations(page, 0)
    await page.screenshot({ path: shot('alarm-banner-kiosk-flash-on') })
    await freezeAnimations(page, 600)
    await page.screenshot({ path: shot('alarm-banner-kiosk-flash-off') })
    const bannerBox = await banner.boundingBox()
    expect(bannerBox?.width).toBeLessThanOrEqual(1280)

    await page.getByRole('button', { name: 'Silence' }).tap()
    await page.getByRole('button', { name: 'Silence' }).waitFor({ state: 'detached' })
    await expect.poll(() => banner.textContent()).toMatch(/^\s*critical alarm/) // silenced, still unacknowledged

    await page.goto(`${served.http}/?kiosk=1#/alarms`)
    await page.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor()
    await page.locator('main td').filter({ hasText: 'Motor over-temperature: 96 °C' }).waitFor()
    await freezeAnimations(page, 0)
    await page.screenshot({ path: shot('alarms-kiosk-1280') })
    expect(await clipped(page)).toEqual([])
    await context.close()
  })

  it('respects reduced motion with a steady frame instead of flashing', async () => {
    const { context, page } = await loggedIn(chrome, served, { reducedMotion: 'reduce' })
    await raise('te/device/filler///a/e2e_pressure', 'critical', 'Fill pressure lost')
    const banner = page.getByRole('alert').filter({ hasText: /critical alarm/ })
    await banner.waitFor()
    expect(await styleOf(banner, 'animationName')).toBe('none')
    expect(await styleOf(banner, 'boxShadow')).toMatch(/inset/)
    await context.close()
  })

  it('shows alarms as cards on a phone, nothing cut off', async () => {
    const { context, page } = await loggedIn(chrome, served, {
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    })
    await raise('te/device/capper///a/e2e_torque', 'major', 'Cap torque drifting above 2.4 N·m')
    await page.goto(`${served.http}/#/alarms`)
    await page.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor()
    const card = page.locator('main tr').filter({ hasText: 'Cap torque drifting' })
    await card.waitFor()
    expect(await styleOf(card, 'display')).toBe('block')
    await freezeAnimations(page, 0)
    await page.screenshot({ path: shot('alarms-phone-390'), fullPage: true })
    expect(await clipped(page)).toEqual([])
    await context.close()
  })
})
