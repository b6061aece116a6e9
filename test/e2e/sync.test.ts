// A commissioning engineer connects the line to a cloud broker from the UI, sees it connected and
// syncing, then sets a desired fill volume on the filler and watches the simulated PLC apply it,
// while a cloud consumer (edgetwin cloud-tail) sees the same.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliProcesses } from '../helpers/cli'
import { startCloudTail } from '../helpers/cloud-tail'
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto'
import { browser, loggedIn, type Served, serve, shot } from './harness'

const SITE = 'plant-brno'
const FILLER = 'device/filler//'

let served: Served
let chrome: Browser
let cloud: Mosquitto
const processes = new CliProcesses()

beforeAll(async () => {
  ;[served, chrome, cloud] = await Promise.all([serve(['--sim-faults', '0']), browser(), startMosquitto()])
})

afterAll(async () => {
  await chrome?.close()
  await served?.stop()
  await processes.cleanup()
  await cloud?.dispose()
})

describe('cloud sync in the UI', () => {
  it('configures and turns on sync, then applies a desired property that reaches device and cloud', async () => {
    const tail = await startCloudTail(processes, ['--url', cloud.url, '--site-id', SITE])
    const { context, page } = await loggedIn(chrome, served)
    await page.goto(`${served.http}/#/sync`)
    await page.getByRole('heading', { level: 1, name: 'Cloud sync' }).waitFor()
    const toggle = page.getByRole('switch', { name: /Sync with the cloud/ })
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false')

    await page.getByRole('textbox', { name: 'Broker URL' }).fill(cloud.url)
    await page.getByRole('textbox', { name: 'Site id' }).fill(SITE)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('status').filter({ hasText: /saved/i }).waitFor()
    await toggle.click()
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true')
    await page.getByText('Connected', { exact: true }).first().waitFor({ timeout: 15_000 })
    // The cloud got the registry of the line.
    await tail.waitFor((items) => items.some((i) => i.kind === 'entity' && i.entity === FILLER), 15_000)
    await page.screenshot({ path: shot('sync-connected') })

    await page.goto(`${served.http}/#/entity/${encodeURIComponent(FILLER)}`)
    await page.getByRole('heading', { level: 1, name: 'Filler PLC' }).waitFor()
    await page.getByRole('tab', { name: 'Desired' }).click()
    await page.getByRole('combobox', { name: 'Name' }).fill('fill_volume_ml')
    await page.getByRole('spinbutton', { name: 'Value' }).fill('505')
    await page.getByRole('button', { name: 'Add property' }).click()
    const table = page.getByRole('table', { name: /Desired properties/ })
    const row = table.getByRole('row').filter({ hasText: 'fill_volume_ml' })
    // The state, then the device's own answer (its code in the title).
    await row.getByText('applied', { exact: true }).first().waitFor({ timeout: 20_000 })
    await row.getByTitle(/device’s answer \(code 200\)/).waitFor()
    await page.getByText(/synced to cloud up to v\d+/).waitFor({ timeout: 15_000 })
    await page.screenshot({ path: shot('desired-applied') })

    // The cloud's copy of the desired document shows the device's acknowledgement.
    const items = await tail.waitFor((seen) =>
      seen.some((i) => {
        const p = (i.properties as Record<string, { ack?: { ac: number } }> | undefined)?.fill_volume_ml
        return i.kind === 'desired' && i.entity === FILLER && p?.ack?.ac === 200
      }),
    )
    expect(items.some((i) => i.kind === 'operation' && i.operation === 'desired_update')).toBe(true)
    await context.close()
  }, 90_000)
})
