import { chromium } from 'playwright-core'
import { readFileSync } from 'node:fs'
const ready = JSON.parse(readFileSync('/tmp/et-shot/ready.json', 'utf8'))
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] })
let state
async function ctx(opts) {
  const c = await b.newContext({ ...opts, storageState: state })
  const p = await c.newPage()
  if (!state) {
    await p.goto(ready.http)
    await p.getByLabel('API token').fill(ready.token)
    await p.getByRole('button', { name: 'Log in' }).click()
    await p.waitForTimeout(1500)
    state = await c.storageState()
  } else await p.goto(ready.http)
  await p.waitForTimeout(2500)
  return { c, p }
}
const which = process.argv[2]
if (which === 'overview') {
  let { c, p } = await ctx({ viewport: { width: 1280, height: 800 }, hasTouch: true })
  await p.goto(ready.http + '/?kiosk=1'); await p.waitForTimeout(4000)
  await p.screenshot({ path: '/tmp/shots/kiosk-1280.png' }); await c.close();
  ({ c, p } = await ctx({ viewport: { width: 1920, height: 1080 } }))
  await p.waitForTimeout(3000); await p.screenshot({ path: '/tmp/shots/desk-1920.png' }); await c.close();
  ({ c, p } = await ctx({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }))
  await p.waitForTimeout(3000); await p.screenshot({ path: '/tmp/shots/phone-390.png' }); await c.close()
}
if (which === 'alarm') {
  const { c, p } = await ctx({ viewport: { width: 1280, height: 800 }, hasTouch: true })
  await p.goto(ready.http + '/?kiosk=1'); await p.waitForTimeout(6000)
  await p.screenshot({ path: '/tmp/shots/kiosk-alarm.png' }); await c.close()
}
if (which === 'chart') {
  const { c, p } = await ctx({ viewport: { width: 1920, height: 1080 } })
  await p.goto(ready.http + '/#/entity/' + encodeURIComponent('device/conveyor-drive//')); await p.waitForTimeout(1500)
  await p.getByRole('tab', { name: /^Measurements/ }).click(); await p.waitForTimeout(1000)
  await p.getByRole('button', { name: '1 h' }).click(); await p.waitForTimeout(3000)
  await p.screenshot({ path: '/tmp/shots/chart-1920.png' })
  await p.goto(ready.http + '/#/entity/' + encodeURIComponent('device/valve-bank//')); await p.waitForTimeout(1500)
  await p.getByRole('tab', { name: /^Measurements/ }).click(); await p.waitForTimeout(3000)
  await p.screenshot({ path: '/tmp/shots/valves-1920.png' })
  await c.close()
}
await b.close()
