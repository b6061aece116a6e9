import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView } from '../../src-renderer/lib/api'
import AlarmsPage from '../../src-renderer/routes/AlarmsPage.svelte'
import { alarm, LINE, lineTwin, stubApi } from './line-fixture'

const rows = () => screen.getAllByRole('row').slice(1) // without the header
const texts = () => rows().map((row) => within(row).getAllByRole('cell')[3]?.textContent?.trim())

function openAlarms(): AlarmView[] {
  return [
    alarm(
      'device/conveyor-drive//',
      'motor_overtemperature',
      'critical',
      'active',
      'Motor over-temperature: 92 °C',
    ),
    alarm('device/tank//', 'level_low', 'major', 'active', 'Buffer tank level low: 14.8 %'),
    alarm('device/vision//', 'reject_rate_high', 'warning', 'active', 'Reject rate high: 5.2 %'),
    alarm('device/filler//', 'pressure_low', 'minor', 'acknowledged', 'Fill pressure low: 1.1 bar'),
  ]
}

describe('Alarms page', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('lists open alarms, most urgent first, and filters by severity and status', async () => {
    const user = userEvent.setup()
    stubApi(() => undefined)
    render(AlarmsPage, { twin: lineTwin(LINE, openAlarms()) })

    expect(texts()).toEqual([
      'Motor over-temperature: 92 °Cmotor_overtemperature',
      'Buffer tank level low: 14.8 %level_low',
      'Reject rate high: 5.2 %reject_rate_high',
      'Fill pressure low: 1.1 barpressure_low',
    ])
    expect(
      within(rows()[0] as HTMLElement).getByRole('link', { name: 'Conveyor Drive VFD' }),
    ).toHaveAttribute('href', '#/entity/device%2Fconveyor-drive%2F%2F')

    const severity = within(screen.getByRole('group', { name: 'Severity' }))
    await user.click(severity.getByRole('checkbox', { name: 'warning (1)' }))
    await user.click(severity.getByRole('checkbox', { name: 'critical (1)' }))
    expect(texts()).toEqual([
      'Buffer tank level low: 14.8 %level_low',
      'Fill pressure low: 1.1 barpressure_low',
    ])

    await user.click(screen.getByRole('checkbox', { name: 'active' }))
    expect(texts()).toEqual(['Fill pressure low: 1.1 barpressure_low'])
    expect(within(rows()[0] as HTMLElement).getByText('by ui')).toBeInTheDocument()
  })

  it('loads cleared alarms when asked for', async () => {
    const user = userEvent.setup()
    const cleared = alarm('device/capper//', 'torque_drift', 'major', 'cleared', 'Cap torque drifting')
    const fetch = stubApi(({ url }) =>
      url.pathname === '/api/v1/alarms' && url.searchParams.get('status') === 'cleared'
        ? [cleared]
        : undefined,
    )
    render(AlarmsPage, { twin: lineTwin(LINE, openAlarms()) })
    expect(screen.queryByText('Cap torque drifting')).toBeNull()

    await user.click(screen.getByRole('checkbox', { name: 'cleared' }))
    const row = (await screen.findByText('Cap torque drifting')).closest('tr') as HTMLElement
    expect(within(row).queryByRole('checkbox')).toBeNull() // nothing more to do with it
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(String(fetch.mock.calls[0]?.[0])).toBe('/api/v1/alarms?status=cleared&limit=500')
  })

  it('acknowledges the selected alarms at once after a confirmation', async () => {
    const user = userEvent.setup()
    const alarms = openAlarms()
    const twin = lineTwin(LINE, alarms)
    const fetch = stubApi(({ method, url }) => {
      const match = /^\/api\/v1\/alarms\/(\d+)\/acknowledge$/.exec(url.pathname)
      const found = match && alarms.find((a) => a.id === Number(match[1]))
      if (method !== 'POST' || !found) return undefined
      return { ...found, status: 'acknowledged', acknowledgedAt: Date.now(), acknowledgedBy: 'ui' }
    })
    render(AlarmsPage, { twin })

    const acknowledge = screen.getByRole('button', { name: /^Acknowledge/ })
    expect(acknowledge).toBeDisabled()
    await user.click(screen.getByRole('checkbox', { name: /critical alarm motor_overtemperature/ }))
    await user.click(screen.getByRole('checkbox', { name: /major alarm level_low/ }))
    expect(screen.getByText('2 selected')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Acknowledge 2' }))

    const dialog = screen.getByRole('dialog', { name: 'Acknowledge 2 alarms?' })
    expect(fetch).not.toHaveBeenCalled()
    await user.click(within(dialog).getByRole('button', { name: 'Acknowledge' }))

    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Acknowledged 2 alarms.'))
    const calls = fetch.mock.calls.map(([url, init]) => `${init?.method} ${url}`)
    expect(calls.sort()).toEqual([
      `POST /api/v1/alarms/${alarms[0]?.id}/acknowledge`,
      `POST /api/v1/alarms/${alarms[1]?.id}/acknowledge`,
    ])
    expect(twin.alarms.filter((a) => a.status === 'acknowledged')).toHaveLength(3)
    expect(screen.getByText('0 selected')).toBeInTheDocument()
  })

  it('selects every shown alarm, and reports the ones the core refused', async () => {
    const user = userEvent.setup()
    const alarms = openAlarms()
    stubApi(({ method, url }) => {
      const match = /^\/api\/v1\/alarms\/(\d+)\/clear$/.exec(url.pathname)
      const found = match && alarms.find((a) => a.id === Number(match[1]))
      if (method !== 'POST' || !found) return undefined
      if (found.severity === 'warning')
        return new Response(JSON.stringify({ error: `alarm ${found.id} is already cleared` }), {
          status: 409,
        })
      return { ...found, status: 'cleared', clearedAt: Date.now(), clearedBy: 'ui' }
    })
    const twin = lineTwin(LINE, alarms)
    render(AlarmsPage, { twin })

    await user.click(screen.getByRole('checkbox', { name: 'Select all shown open alarms' }))
    expect(screen.getByText('4 selected')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Clear 4' }))
    await user.click(
      within(screen.getByRole('dialog', { name: 'Clear 4 alarms?' })).getByRole('button', { name: 'Clear' }),
    )

    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent(
        `Cleared 3 of 4. Failed: reject_rate_high: alarm ${alarms[2]?.id} is already cleared`,
      ),
    )
    expect(twin.alarms.map((a) => a.type)).toEqual(['reject_rate_high'])
    expect(texts()).toEqual(['Reject rate high: 5.2 %reject_rate_high'])
  })

  it('follows the live alarms', async () => {
    stubApi(() => undefined)
    const twin = lineTwin(LINE, [])
    render(AlarmsPage, { twin })
    expect(screen.getByText('No alarms match these filters.')).toBeInTheDocument()
    twin.updateAlarm(alarm('device/filler//', 'valve_stuck', 'critical', 'active', 'Fill valve 3 stuck open'))
    expect(await screen.findByText('Fill valve 3 stuck open')).toBeInTheDocument()
  })

  it('flashes an unacknowledged alarm until it is acknowledged, and marks the first-out', async () => {
    stubApi(() => undefined)
    const raised = {
      ...alarm('device/filler//', 'valve_stuck', 'critical', 'active', 'Fill valve 3 stuck open'),
      firstOut: true,
    }
    const twin = lineTwin(LINE, [raised])
    render(AlarmsPage, { twin })
    const row = () => screen.getByText('Fill valve 3 stuck open').closest('tr') as HTMLElement
    expect(within(row()).getByText('critical')).toHaveClass('flash')
    expect(within(row()).getByText('First out')).toBeInTheDocument()

    twin.updateAlarm({ ...raised, status: 'acknowledged', acknowledgedBy: 'ui' })
    await waitFor(() => expect(within(row()).getByText('critical')).not.toHaveClass('flash'))
    expect(within(row()).getByText('critical')).toHaveClass('severity-critical') // still coloured, steady
  })

  it('shelves the selected alarms for a chosen time with a required reason', async () => {
    const user = userEvent.setup()
    const alarms = openAlarms()
    const twin = lineTwin(LINE, alarms)
    const fetch = stubApi(({ method, url, body }) => {
      const match = /^\/api\/v1\/alarms\/(\d+)\/shelve$/.exec(url.pathname)
      const found = match && alarms.find((a) => a.id === Number(match[1]))
      if (method !== 'POST' || !found) return undefined
      const shelf = body as { minutes: number; reason: string }
      return {
        ...found,
        shelvedUntil: Date.now() + shelf.minutes * 60_000,
        shelvedBy: 'ui',
        shelveReason: shelf.reason,
      }
    })
    render(AlarmsPage, { twin })
    await user.click(screen.getByRole('checkbox', { name: /major alarm level_low/ }))
    await user.click(screen.getByRole('button', { name: 'Shelve 1' }))

    const dialog = screen.getByRole('dialog', { name: 'Shelve alarm?' })
    const shelve = within(dialog).getByRole('button', { name: 'Shelve' })
    expect(shelve).toBeDisabled() // a reason is required
    await user.click(within(dialog).getByRole('radio', { name: '4 hours' }))
    await user.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'Level sensor being recalibrated',
    )
    await user.click(shelve)

    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Shelved 1 alarm.'))
    expect(fetch.mock.calls.map(([url, init]) => [String(url), init?.body])).toEqual([
      [
        `/api/v1/alarms/${alarms[1]?.id}/shelve`,
        JSON.stringify({ minutes: 240, reason: 'Level sensor being recalibrated' }),
      ],
    ])
    const row = screen.getByText('Buffer tank level low: 14.8 %').closest('tr') as HTMLElement
    expect(row).toHaveTextContent(/Shelved until .*Level sensor being recalibrated/)
    expect(within(row).getByText('major')).not.toHaveClass('flash') // set aside: it does not call for attention
    expect(screen.getByRole('button', { name: 'Shelve' })).toBeDisabled()
  })
})
