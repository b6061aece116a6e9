import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { StatusView } from '../../src-renderer/lib/api'
import TopBar from '../../src-renderer/lib/components/TopBar.svelte'
import { settings } from '../../src-renderer/lib/settings.svelte'
import { alarm, LINE, lineTwin } from './line-fixture'

const STATUS: StatusView = {
  version: '0.1.0',
  startedAt: Date.now() - 60_000,
  uptimeSeconds: 60,
  broker: { mode: 'embedded', url: 'mqtt://127.0.0.1:1883', connected: true },
  ingest: { received: 0, rejected: 0, refused: 0, values: 0, pendingWrites: 0 },
  store: { file: '/tmp/edgetwin.db', bytes: 0 },
  disk: { condition: 'ok', freeBytes: 2 ** 33, reserveBytes: 2 ** 26, since: 0, reason: null },
  logs: { dropped: 0, error: null },
  entities: LINE.length,
  pendingRegistrations: [],
  pendingRegistrationCount: 0,
  simulation: false,
}

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

  it('says when the line is the built-in simulation, and only then', async () => {
    const twin = lineTwin()
    render(TopBar, { twin })
    expect(screen.queryByText('Simulation')).toBeNull()
    twin.status = { ...STATUS, simulation: true }
    const badge = await screen.findByText('Simulation')
    expect(badge).toHaveAttribute('title', "This line is EdgeTwin's built-in simulation, not real equipment")
    twin.status = { ...STATUS, simulation: false }
    await vi.waitFor(() => expect(screen.queryByText('Simulation')).toBeNull())
  })

  it('keeps the broker out of the bar while it is connected and names it when it is not', async () => {
    const user = userEvent.setup()
    const twin = lineTwin()
    twin.status = STATUS
    render(TopBar, { twin })
    expect(screen.queryByText('Broker connected')).toBeNull()
    await user.click(screen.getByRole('button', { name: '3 of 4 services up' }))
    expect(screen.getByText('Broker connected')).toBeInTheDocument()
    await user.keyboard('{Escape}')
    twin.status = { ...STATUS, broker: { ...STATUS.broker, connected: false } }
    expect(await screen.findByText('Broker down')).toBeInTheDocument()
  })

  it('lists the other pages in the menu as separate links, Operations among them for a phone', async () => {
    const user = userEvent.setup()
    render(TopBar, { twin: lineTwin() })
    await user.click(screen.getByRole('button', { name: /Menu/ }))
    const pages = within(screen.getByRole('navigation', { name: 'More pages' }))
    expect(pages.getAllByRole('link').map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Operations', '#/operations'],
      ['Audit trail', '#/audit'],
      ['Cloud sync', '#/sync'],
      ['API reference', '/api/v1/docs'],
    ])
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
