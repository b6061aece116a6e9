import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import AlarmBanner from '../../src-renderer/lib/components/AlarmBanner.svelte'
import { settings } from '../../src-renderer/lib/settings.svelte'
import { alarm, LINE, lineTwin, stubApi } from './line-fixture'

/**
 * jsdom has no Web Audio: a stand-in AudioContext records the oscillators the horn starts and
 * stops, and starts suspended as a browser does before a user gesture (autoplay policy).
 */
class FakeAudioContext {
  static instances: FakeAudioContext[] = []
  state: 'suspended' | 'running' | 'closed' = 'suspended'
  readonly destination = {}
  readonly oscillators: Array<{
    started: boolean
    stopped: boolean
    type: string
    frequency: { value: number }
  }> = []
  constructor() {
    FakeAudioContext.instances.push(this)
  }
  resume() {
    this.state = 'running'
    return Promise.resolve()
  }
  close() {
    this.state = 'closed'
    return Promise.resolve()
  }
  createOscillator() {
    const oscillator = {
      started: false,
      stopped: false,
      type: 'sine',
      frequency: { value: 440 },
      connect: (target: unknown) => target,
      disconnect() {},
      start() {
        oscillator.started = true
      },
      stop() {
        oscillator.stopped = true
      },
    }
    this.oscillators.push(oscillator)
    return oscillator
  }
  createGain() {
    return { gain: { value: 1 }, connect: (target: unknown) => target, disconnect() {} }
  }
}

/** Oscillators playing now, in every context the horn made. */
const playing = () =>
  FakeAudioContext.instances.flatMap((c) => c.oscillators).filter((o) => o.started && !o.stopped).length

describe('AlarmBanner', () => {
  beforeEach(() => {
    FakeAudioContext.instances = []
    vi.stubGlobal('AudioContext', FakeAudioContext)
  })
  afterEach(() => {
    location.hash = '#/'
    settings.horn = undefined
    settings.kiosk = false
    vi.unstubAllGlobals()
  })

  it('shows the worst unacknowledged alarm, not the newest, and flashes it', async () => {
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    expect(screen.queryByRole('alert')).toBeNull()

    const critical = alarm(
      'device/conveyor-drive//',
      'overtemperature',
      'critical',
      'active',
      'Motor at 94 °C',
    )
    twin.updateAlarm(critical)
    // Raised after the critical one: newer, but less severe.
    twin.updateAlarm({
      ...alarm('device/filler//', 'pressure', 'major', 'active', 'Fill pressure low'),
      lastTime: critical.lastTime + 5000,
    })
    const banner = await screen.findByRole('alert')
    expect(banner).toHaveTextContent('critical alarm Conveyor Drive VFD: Motor at 94 °C')
    expect(banner).toHaveClass('flash', 'severity-critical')
    expect(within(banner).getByRole('link', { name: 'and 1 more' })).toHaveAttribute('href', '#/alarms')

    // Of two alarms of one severity, the latest.
    twin.updateAlarm({
      ...alarm('device/tank//', 'temperature', 'critical', 'active', 'Tank too warm'),
      lastTime: critical.lastTime + 9000,
    })
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Tank too warm'))
    expect(screen.getByRole('link', { name: 'and 2 more' })).toBeInTheDocument()
  })

  it('shows alarms already open when it starts, leaves out minor, acknowledged and shelved ones', async () => {
    const user = userEvent.setup()
    const known = alarm('device/tank//', 'level_low', 'major', 'active', 'Buffer tank level low')
    const twin = lineTwin(LINE, [
      known,
      alarm('device/vision//', 'lens_dirty', 'minor'),
      alarm('device/capper//', 'torque', 'warning'),
      alarm('device/filler//', 'pressure', 'critical', 'acknowledged'),
      {
        ...alarm('device/conveyor-drive//', 'overtemperature', 'critical'),
        shelvedUntil: Date.now() + 600_000,
        shelveReason: 'fan replaced',
      },
    ])
    render(AlarmBanner, { twin })
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'major alarm Buffer Tank T-301: Buffer tank level low',
    )
    expect(screen.queryByRole('link', { name: /more/ })).toBeNull()

    await user.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByRole('alert')).toBeNull()
    twin.updateAlarm({ ...known, text: 'Buffer tank level low: 14.2 %' }) // same occurrence, new text
    await Promise.resolve()
    expect(screen.queryByRole('alert')).toBeNull()
    twin.updateAlarm({ ...known, count: 2, lastTime: known.lastTime + 1000 }) // raised again
    expect(await screen.findByRole('alert')).toHaveTextContent('(2 times)')
  })

  it('acknowledges from the banner with a comment, then shows the next one; View opens the entity', async () => {
    const user = userEvent.setup()
    const critical = alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor hot')
    const major = alarm('device/filler//', 'pressure', 'major', 'active', 'Fill pressure low')
    const twin = lineTwin(LINE, [critical, major])
    const fetch = stubApi(({ method, url, body }) => {
      if (method !== 'POST') return undefined
      if (url.pathname === `/api/v1/alarms/${critical.id}/acknowledge`)
        return { ...critical, status: 'acknowledged', acknowledgedBy: 'ui' }
      if (url.pathname === `/api/v1/alarms/${critical.id}/comments`)
        return {
          ...critical,
          status: 'acknowledged',
          acknowledgedBy: 'ui',
          comments: [{ time: Date.now(), author: 'ui', text: (body as { text: string }).text }],
        }
      return undefined
    })
    render(AlarmBanner, { twin })
    const banner = await screen.findByRole('alert')
    expect(banner).toHaveTextContent('Motor hot')

    await user.click(within(banner).getByRole('button', { name: 'Acknowledge' }))
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alarm?' })
    await user.type(
      within(dialog).getByRole('textbox', { name: 'Comment (optional)' }),
      'Fan blocked, cleaned',
    )
    await user.click(within(dialog).getByRole('button', { name: 'Acknowledge' }))

    await waitFor(() =>
      expect(screen.getByRole('alert')).toHaveTextContent('major alarm Filler PLC: Fill pressure low'),
    )
    expect(fetch.mock.calls.map(([url, init]) => [init?.method, String(url), init?.body])).toEqual([
      ['POST', `/api/v1/alarms/${critical.id}/acknowledge`, undefined],
      ['POST', `/api/v1/alarms/${critical.id}/comments`, JSON.stringify({ text: 'Fan blocked, cleaned' })],
    ])
    expect(twin.alarms.find((a) => a.id === critical.id)?.comments).toHaveLength(1)

    await user.click(screen.getByRole('button', { name: 'View' }))
    await waitFor(() => expect(location.hash).toBe('#/entity/device%2Ffiller%2F%2F'))
    expect(screen.queryByRole('alert')).toBeNull()
  })
})

describe('alarm horn', () => {
  beforeEach(() => {
    FakeAudioContext.instances = []
    vi.stubGlobal('AudioContext', FakeAudioContext)
  })
  afterEach(() => {
    settings.horn = undefined
    settings.kiosk = false
    vi.unstubAllGlobals()
  })

  it('is off by default outside kiosk mode', async () => {
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    twin.updateAlarm(alarm('device/filler//', 'pressure', 'critical'))
    await screen.findByRole('alert')
    expect(screen.queryByRole('button', { name: /sound/ })).toBeNull()
    expect(screen.queryByRole('button', { name: /Silence/ })).toBeNull()
    expect(FakeAudioContext.instances).toHaveLength(0)
  })

  it('needs no tap where the page may already make sound (the desktop kiosk window)', async () => {
    class AllowedAudioContext extends FakeAudioContext {
      override state: 'suspended' | 'running' | 'closed' = 'running'
    }
    vi.stubGlobal('AudioContext', AllowedAudioContext)
    settings.kiosk = true
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    twin.updateAlarm(alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor hot'))
    await waitFor(() => expect(playing()).toBe(2))
    expect(screen.queryByRole('button', { name: 'Tap to enable sound' })).toBeNull()
  })

  it('at a kiosk, asks for a tap first, then sounds until silenced, again on a re-raise, and stops on acknowledge', async () => {
    const user = userEvent.setup()
    settings.kiosk = true // the horn follows kiosk mode unless chosen on this screen
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    const raised = alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor hot')
    twin.updateAlarm(raised)

    // No gesture yet: the browser would refuse sound, so the banner asks for a tap.
    await user.click(await screen.findByRole('button', { name: 'Tap to enable sound' }))
    await waitFor(() => expect(playing()).toBe(2)) // the tone and its pulse
    const [tone] = FakeAudioContext.instances[0]?.oscillators ?? []
    expect(tone?.frequency.value).toBeGreaterThan(400)

    await user.click(screen.getByRole('button', { name: 'Silence' }))
    expect(playing()).toBe(0)
    expect(screen.getByRole('alert')).toHaveTextContent('Motor hot') // silenced, not acknowledged

    twin.updateAlarm({ ...raised, count: 2, lastTime: raised.lastTime + 1000 })
    await waitFor(() => expect(playing()).toBe(2))

    twin.updateAlarm({ ...raised, count: 2, status: 'acknowledged', acknowledgedBy: 'ui' })
    await waitFor(() => expect(playing()).toBe(0))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('is armed by the first touch anywhere, and can be turned off on this screen', async () => {
    const user = userEvent.setup()
    settings.horn = true
    const twin = lineTwin()
    render(AlarmBanner, { twin })
    const outside = document.createElement('button')
    outside.textContent = 'elsewhere'
    document.body.append(outside)
    await user.click(outside)
    twin.updateAlarm(alarm('device/tank//', 'level_low', 'major'))
    expect(await screen.findByRole('button', { name: 'Silence' })).toBeInTheDocument()
    expect(playing()).toBe(2)

    settings.horn = false
    await waitFor(() => expect(playing()).toBe(0))
    expect(screen.queryByRole('button', { name: 'Silence' })).toBeNull()
    outside.remove()
  })
})
