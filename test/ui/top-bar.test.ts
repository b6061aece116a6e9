import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import TopBar from '../../src-renderer/lib/components/TopBar.svelte'
import { settings } from '../../src-renderer/lib/settings.svelte'
import { alarm, LINE, lineTwin } from './line-fixture'

describe('TopBar', () => {
  it('names the line and says whether the screen is live, reconnecting or offline', async () => {
    const twin = lineTwin()
    render(TopBar, { twin })
    expect(screen.getByRole('link', { name: /Filling Line 3/ })).toHaveAttribute('href', '#/')
    expect(screen.getByRole('status')).toHaveTextContent('Live')

    twin.connection = 'offline'
    await expect.poll(() => screen.getByRole('status').textContent).toContain('Offline')
    twin.connection = 'connecting'
    await expect.poll(() => screen.getByRole('status').textContent).toContain('Reconnecting…')
  })

  it('counts the services that are up and lists them on request', async () => {
    const user = userEvent.setup()
    render(TopBar, { twin: lineTwin() })
    const button = screen.getByRole('button', { name: '3 of 4 services up' })
    expect(button).toHaveAttribute('aria-expanded', 'false')
    await user.click(button)
    expect(button).toHaveAttribute('aria-expanded', 'true')
    const panel = document.getElementById(button.getAttribute('aria-controls') ?? '') as HTMLElement
    const items = within(panel)
      .getAllByRole('listitem')
      .map((li) => li.textContent?.replace(/\s+/g, ' ').trim())
    expect(items).toContain('condition-monitoring on Conveyor Drive VFD down')
    await user.keyboard('{Escape}')
    expect(button).toHaveAttribute('aria-expanded', 'false')
    expect(button).toHaveFocus()
  })

  it('says the service count is only the last known one while offline', async () => {
    const twin = lineTwin()
    render(TopBar, { twin })
    twin.connection = 'offline'
    await expect
      .poll(() => screen.queryByRole('button', { name: 'last known: 3 of 4 services up' }))
      .not.toBeNull()
  })

  it('links to the alarms with the open counts by severity', () => {
    const alarms = [
      alarm('device/tank//', 'level_low', 'major'),
      alarm('device/filler//', 'pressure', 'major'),
      alarm('device/capper//', 'torque', 'warning', 'acknowledged'),
    ]
    render(TopBar, { twin: lineTwin(LINE, alarms) })
    expect(
      screen.getByRole('link', { name: 'Alarms: 2 major, 1 warning open, 2 unacknowledged' }),
    ).toHaveAttribute('href', '#/alarms')
  })

  it('switches theme and kiosk mode from the menu and keeps them', async () => {
    const user = userEvent.setup()
    render(TopBar, { twin: lineTwin() })
    await user.click(screen.getByRole('button', { name: /Menu/ }))
    await user.click(screen.getByRole('radio', { name: 'Dark' }))
    expect(settings.dark).toBe(true)
    await user.click(screen.getByRole('checkbox', { name: /Kiosk mode/ }))
    expect(settings.kiosk).toBe(true)
    expect(JSON.parse(localStorage.getItem('edgetwin.settings') ?? '{}')).toEqual({
      theme: 'dark',
      kiosk: true,
    })
    expect(screen.getByRole('link', { name: 'Audit trail' })).toHaveAttribute('href', '#/audit')
    expect(screen.getByRole('button', { name: 'Log out' })).toBeInTheDocument()

    await user.click(screen.getByRole('checkbox', { name: /Kiosk mode/ }))
    await user.click(screen.getByRole('radio', { name: 'Same as system' }))
    expect(settings.kiosk).toBe(false)
  })

  it('shows and hides the equipment tree', async () => {
    const user = userEvent.setup()
    render(TopBar, { twin: lineTwin(), navShown: true })
    const toggle = screen.getByRole('button', { name: 'Equipment tree' })
    expect(toggle).toHaveAttribute('aria-expanded', 'true')
    await user.click(toggle)
    expect(toggle).toHaveAttribute('aria-expanded', 'false')
  })
})
