// A technician changes the simulated filler's configuration in the UI, follows the operation's
// states, sees the new version, restores the previous one, and finds both in the audit trail.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntryView, ConfigVersionView } from '../../src-main/core/api/types'
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

const FILLER = 'device/filler//'

async function api<T>(pathname: string): Promise<T> {
  const response = await fetch(new URL(pathname, served.http), {
    headers: { authorization: `Bearer ${served.token}` },
  })
  if (!response.ok) throw new Error(`${pathname}: ${response.status}`)
  return (await response.json()) as T
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click()
}

describe('operations in the UI', () => {
  it('changes the filler configuration, shows its states and new version, restores the previous one, audits both', async () => {
    const { context, page } = await loggedIn(chrome, served)
    await page.goto(`${served.http}/#/entity/${encodeURIComponent(FILLER)}`)
    await page.getByRole('heading', { level: 1, name: 'Filler PLC' }).waitFor()

    // A snapshot first, so there is a current version to edit and to go back to.
    await openTab(page, 'Operations')
    const picker = page.getByRole('group', { name: 'Operation to run' })
    await picker.getByRole('button', { name: /config snapshot/i }).click()
    await page.getByRole('button', { name: 'Request snapshot' }).click()
    const timeline = () => page.getByRole('list', { name: /^States of config_snapshot/ })
    await timeline().getByText('successful').waitFor({ timeout: 20_000 })

    await picker.getByRole('button', { name: /config update/i }).click()
    const editor = page.getByRole('textbox', { name: 'Content' })
    await expect.poll(() => editor.inputValue(), { timeout: 10_000 }).toContain('fill_volume_ml')
    const original = await editor.inputValue()
    const changed = original.replace(/fill_volume_ml\s*=\s*\d+/, 'fill_volume_ml = 750')
    expect(changed).not.toBe(original)
    await editor.fill(changed)
    await page.getByRole('button', { name: 'Review changes' }).click()
    await page.getByRole('heading', { name: /Review the changes to filler.conf/ }).waitFor()
    await page.screenshot({ path: shot('config-review') })
    await page.getByRole('button', { name: 'Send configuration' }).click()

    // The states as the simulated child agent publishes them.
    const updateTimeline = page.getByRole('list', { name: /^States of config_update/ })
    await updateTimeline.getByText('executing').waitFor({ timeout: 20_000 })
    await updateTimeline.getByText('successful').waitFor({ timeout: 20_000 })
    await page.screenshot({ path: shot('config-update-done') })

    const versions = await api<ConfigVersionView[]>(
      `/api/v1/entities/${encodeURIComponent(FILLER)}/configs/filler.conf/versions`,
    )
    expect(versions.map((v) => [v.version, v.source])).toEqual([
      [2, 'update'],
      [1, 'snapshot'],
    ])

    await openTab(page, 'Configuration')
    await page.getByRole('row', { name: /^2 .*(current)/ }).waitFor()
    await page.getByRole('button', { name: 'Restore… version 1' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('fill_volume_ml = 750').first().waitFor()
    await page.screenshot({ path: shot('config-restore-confirm') })
    await dialog.getByRole('button', { name: /^Restore/ }).click()
    await page.getByRole('row', { name: /^3 .*(current)/ }).waitFor({ timeout: 20_000 })
    await page.screenshot({ path: shot('config-versions') })

    const after = await api<ConfigVersionView[]>(
      `/api/v1/entities/${encodeURIComponent(FILLER)}/configs/filler.conf/versions`,
    )
    expect(after[0]).toMatchObject({ version: 3, source: 'restore', sha256: versions[1]?.sha256 })

    await openTab(page, 'Audit')
    await page.getByRole('cell', { name: 'config.restore' }).first().waitFor()
    await page.screenshot({ path: shot('entity-audit') })
    const audit = await api<AuditEntryView[]>(`/api/v1/audit?entity=${encodeURIComponent(FILLER)}`)
    expect(audit.map((a) => [a.action, a.actor])).toEqual(
      expect.arrayContaining([
        ['config.restore', 'ui'],
        ['config.update', 'ui'],
        ['operation.request', 'ui'],
      ]),
    )
    await context.close()
  })
})
