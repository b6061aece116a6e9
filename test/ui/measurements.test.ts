import './uplot-env'
import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView, EntityDetail, SeriesPointView, SeriesView } from '../../src-renderer/lib/api'
import type { Range } from '../../src-renderer/lib/chart'
import Measurements from '../../src-renderer/lib/components/Measurements.svelte'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import { alarm } from './line-fixture'

const NOW = Date.parse('2026-05-04T10:00:00Z')
const FILLER = 'device/filler//'
const VALVES = 'device/valve-bank//'
const WIDTH = 800

const series = (
  id: number,
  type: string,
  name: string,
  unit: string,
  more: Partial<SeriesView> = {},
): SeriesView => ({
  id,
  type,
  name,
  unit,
  lastTime: NOW,
  lastValue: id,
  expectedPeriod: null,
  periodSource: null,
  staleAfter: null,
  stale: false,
  settings: null,
  ...more,
})

const entity = (id: string, name: string, list: SeriesView[]): EntityDetail => ({
  id,
  type: 'child-device',
  parent: 'device/main//',
  externalId: null,
  name,
  health: null,
  lastSeen: NOW,
  activeAlarms: { critical: 0, major: 0, minor: 0, warning: 0 },
  registration: {},
  autoRegistered: false,
  registeredAt: NOW,
  healthEndpoint: null,
  twin: {},
  config: null,
  capabilities: {},
  children: [],
  series: list,
})

const filler = entity(FILLER, 'Filler PLC', [
  series(6, 'filling', 'fill_pressure', 'bar', { settings: { limits: { low: 2, high: 3 }, setpoint: 2.5 } }),
  series(7, 'filling', 'speed', 'bottles/min', { settings: { displayName: 'Line speed' } }),
])
const valves = entity(
  VALVES,
  'Fill Valve Bank',
  [1, 2, 3, 4, 5, 6].map((n) =>
    series(20 + n, 'valves', `valves.v${n}`, 'L/min', { lastValue: n === 5 ? 7.1 : 10 }),
  ),
)

type Call = { method: string; url: URL; body: unknown }
let alarms: AlarmView[] = []
let calls: Call[] = []
/** What the core answers to a PUT of settings: the stored settings, or an error. */
let putAnswer: (body: unknown) => Response = (body) => Response.json({ settings: body })

function core(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(String(input), 'http://edgetwin.test')
  const method = init.method ?? 'GET'
  const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
  calls.push({ method, url, body })
  const read = url.pathname.match(/^\/api\/v1\/series\/(\d+)$/)
  if (read) {
    const id = Number(read[1])
    const to = Number(url.searchParams.get('to'))
    const value = id === 25 ? 7.1 : id
    const points: SeriesPointView[] = [to - 2000, to - 1000].map((time) => ({
      time,
      min: value,
      max: value,
      avg: value,
      count: 1,
    }))
    return Promise.resolve(Response.json({ resolution: 'raw', points }))
  }
  if (/^\/api\/v1\/series\/\d+\/settings$/.test(url.pathname) && method === 'PUT')
    return Promise.resolve(putAnswer(body))
  if (url.pathname === '/api/v1/alarms') return Promise.resolve(Response.json(alarms))
  return Promise.resolve(Response.json({ error: 'not found' }, { status: 404 }))
}

function show(detail: EntityDetail, selected: number[], range: Range = { key: '1h' }) {
  const user = userEvent.setup()
  render(Measurements, { entity: detail, twin: new Twin(), selected, range })
  return user
}

describe('Measurements', () => {
  beforeEach(() => {
    calls = []
    alarms = []
    putAnswer = (body) => Response.json({ settings: body })
    vi.stubGlobal('fetch', vi.fn(core))
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(WIDTH)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
  })

  it('names series as the cards do (or as a person renamed them), in the picker and the legend', async () => {
    show(filler, [6, 7])
    expect(screen.getByRole('checkbox', { name: /^Fill pressure/ })).toBeChecked()
    expect(screen.getByRole('checkbox', { name: /^Line speed/ })).toBeChecked()
    expect(screen.queryByText('fill_pressure')).not.toBeInTheDocument()
    expect(screen.getByRole('checkbox', { name: /^Filling/ })).toBeInTheDocument()
    await screen.findByRole('img', { name: /^Chart of 2 series of Filler PLC/ })
    await waitFor(() => expect(document.querySelector('.u-legend')).toHaveTextContent('Fill pressure [bar]'))
    expect(document.querySelector('.u-legend')).toHaveTextContent('Line speed [bottles/min]')
    // Away from the cursor the legend reads the latest values, not dashes.
    await waitFor(() => expect(document.querySelector('.u-legend')).toHaveTextContent(/Time\s*latest/))
    expect(document.querySelector('.u-legend')).toHaveTextContent(/Fill pressure \[bar\]\s*6 bar/)
  })

  it('passes the limits and setpoint to the chart, and says them in words', async () => {
    show(filler, [6, 7])
    const chart = await screen.findByRole('img', { name: /^Chart of 2 series/ })
    const list = screen.getByRole('list', { name: 'Limits and setpoints' })
    expect(chart).toHaveAttribute('aria-describedby', list.id)
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([
      'Fill pressure: low limit 2 bar',
      'Fill pressure: high limit 3 bar',
      'Fill pressure: setpoint 2.5 bar',
    ])
  })

  it('asks for the entity’s alarms of the window, marks them on the time axis and names them', async () => {
    const raised = (
      type: string,
      text: string,
      time: number,
      severity: AlarmView['severity'],
    ): AlarmView => ({
      ...alarm(FILLER, type, severity, 'active', text),
      id: time,
      firstTime: time,
      lastTime: time,
      occurrences: [time],
    })
    alarms = [
      raised('pressure_low', 'Fill pressure low', NOW - 600_000, 'major'),
      raised('old', 'Yesterday', NOW - 86_400_000, 'minor'),
    ]
    show(filler, [6])
    await screen.findByRole('img', { name: /^Chart of 1 series/ })
    expect(await screen.findByText(/^Alarms marked: .*Fill pressure low \(major\)\.$/)).toBeInTheDocument()
    expect(screen.queryByText(/Yesterday/)).not.toBeInTheDocument()
    const asked = calls.find((c) => c.url.pathname === '/api/v1/alarms')
    expect(asked?.url.searchParams.get('entity')).toBe(FILLER)
    expect(asked?.url.searchParams.get('status')).toBe('active,acknowledged,cleared')
  })

  it('draws sibling series (six valves) as bars, where a weak one stands out, and as lines on request', async () => {
    const user = show(valves, [21, 22, 23, 24, 25, 26])
    const bars = await screen.findByRole('img', {
      name: /^Chart of 6 series of Fill Valve Bank, .*, as bars$/,
    })
    const titles = [...bars.querySelectorAll('rect title')].map((t) => t.textContent)
    expect(titles).toEqual([
      'V1: 21 L/min',
      'V2: 22 L/min',
      'V3: 23 L/min',
      'V4: 24 L/min',
      'V5: 7.1 L/min',
      'V6: 26 L/min',
    ])
    expect(screen.getByRole('button', { name: 'Bars', pressed: true })).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Lines' }))
    const lines = await screen.findByRole('img', {
      name: /^Chart of 6 series of Fill Valve Bank, .*raw values$/,
    })
    expect(lines.tagName).toBe('DIV')
    expect(screen.getByRole('button', { name: 'Lines', pressed: true })).toBeInTheDocument()
  })

  it('lets a technician set a series’ name, range and limits, and charts them at once', async () => {
    const user = show(filler, [6, 7])
    await screen.findByRole('img', { name: /^Chart of 2 series/ })
    await user.click(screen.getByRole('button', { name: 'Settings of Line speed' }))
    const dialog = screen.getByRole('dialog', { name: 'Settings of Speed' })
    expect(within(dialog).getByRole('textbox', { name: 'Display name' })).toHaveValue('Line speed')
    await user.type(within(dialog).getByRole('textbox', { name: 'Range from' }), '0')
    await user.click(within(dialog).getByRole('button', { name: 'Save' }))
    expect(within(dialog).getByRole('alert')).toHaveTextContent('Give both ends of the range')
    await user.type(within(dialog).getByRole('textbox', { name: 'Range to' }), '180')
    await user.type(within(dialog).getByRole('textbox', { name: 'High limit' }), '150')
    await user.click(within(dialog).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(dialog).not.toHaveAttribute('open'))
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.url.pathname).toBe('/api/v1/series/7/settings')
    expect(put?.body).toEqual({
      displayName: 'Line speed',
      range: { min: 0, max: 180 },
      limits: { high: 150 },
    })
    const list = screen.getByRole('list', { name: 'Limits and setpoints' })
    expect(list).toHaveTextContent('Line speed: high limit 150 bottles/min')
  })

  it('shows the core’s reason when it refuses the settings, and keeps the dialog open', async () => {
    putAnswer = () => Response.json({ error: '"range.min" must be below "range.max"' }, { status: 400 })
    const user = show(filler, [6])
    await screen.findByRole('img', { name: /^Chart of 1 series/ })
    await user.click(screen.getByRole('button', { name: 'Settings of Fill pressure' }))
    const dialog = screen.getByRole('dialog')
    await user.type(within(dialog).getByRole('textbox', { name: 'Range from' }), '5')
    await user.type(within(dialog).getByRole('textbox', { name: 'Range to' }), '1')
    await user.click(within(dialog).getByRole('button', { name: 'Save' }))
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Not saved: "range.min" must be below')
    expect(dialog).toHaveAttribute('open')
  })

  it('zooms with + and pans with the arrow keys on the focused chart', async () => {
    const user = show(filler, [6])
    const chart = await screen.findByRole('img', { name: /^Chart of 1 series/ })
    const before = calls.filter((c) => c.url.pathname === '/api/v1/series/6').length
    chart.focus()
    await user.keyboard('+')
    await screen.findByRole('button', { name: 'Reset zoom' })
    await waitFor(() =>
      expect(calls.filter((c) => c.url.pathname === '/api/v1/series/6').length).toBe(before + 1),
    )
    const zoomed = calls.filter((c) => c.url.pathname === '/api/v1/series/6').at(-1)
    const from = Number(zoomed?.url.searchParams.get('from'))
    const to = Number(zoomed?.url.searchParams.get('to'))
    // An hour zoomed in twice: the middle half hour.
    expect([from, to]).toEqual([NOW - 2_700_000, NOW - 900_000])
    ;(await screen.findByRole('img', { name: /^Chart of 1 series/ })).focus()
    await user.keyboard('{ArrowLeft}')
    await waitFor(() => {
      const panned = calls.filter((c) => c.url.pathname === '/api/v1/series/6').at(-1)
      expect(Number(panned?.url.searchParams.get('to'))).toBe(NOW - 1_350_000)
    })
  })
})
