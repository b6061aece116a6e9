import { render, screen, waitFor } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import AlarmBanner from '../../src-renderer/lib/components/AlarmBanner.svelte'
import { alarm, LINE, lineTwin } from './line-fixture'

describe('AlarmBanner', () => {
  afterEach(() => {
    location.hash = '#/'
  })

  it('announces a new critical alarm and goes when dismissed', async () => {
    const user = userEvent.setup()
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    expect(screen.queryByRole('alert')).toBeNull()

    twin.updateAlarm(
      alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor at 94 °C'),
    )
    const banner = await screen.findByRole('alert')
    expect(banner).toHaveTextContent('New critical alarm Conveyor Drive VFD: Motor at 94 °C')

    await user.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('stays quiet for minor alarms and for updates of alarms it already knew', async () => {
    const known = alarm('device/tank//', 'level_low', 'major')
    const twin = lineTwin(LINE, [known])
    render(AlarmBanner, { twin })

    twin.updateAlarm(alarm('device/vision//', 'lens_dirty', 'minor'))
    twin.updateAlarm(alarm('device/capper//', 'torque', 'warning'))
    twin.updateAlarm({ ...known, text: 'Buffer tank level low: 14.2 %' }) // same occurrence, new text
    twin.updateAlarm(alarm('device/filler//', 'pressure', 'critical', 'acknowledged'))
    await Promise.resolve()
    expect(screen.queryByRole('alert')).toBeNull()

    twin.updateAlarm({ ...known, count: known.count + 1, lastTime: known.lastTime + 1000 }) // raised again
    expect(await screen.findByRole('alert')).toHaveTextContent('New major alarm Buffer Tank T-301')
  })

  it('counts several new alarms, opens the entity with View, and drops alarms acknowledged meanwhile', async () => {
    const user = userEvent.setup()
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    const first = alarm('device/filler//', 'pressure', 'major', 'active', 'Fill pressure low')
    const second = alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor hot')
    twin.updateAlarm(first)
    twin.updateAlarm(second)
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'New critical alarm Conveyor Drive VFD: Motor hot',
    )
    expect(screen.getByRole('link', { name: 'and 1 more' })).toHaveAttribute('href', '#/alarms')

    twin.updateAlarm({ ...second, status: 'acknowledged' })
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('New major alarm Filler PLC'))
    expect(screen.queryByRole('link', { name: /more/ })).toBeNull()

    await user.click(screen.getByRole('button', { name: 'View' }))
    await waitFor(() => expect(location.hash).toBe('#/entity/device%2Ffiller%2F%2F'))
    expect(screen.queryByRole('alert')).toBeNull()
  })
})
