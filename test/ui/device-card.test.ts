import { render, screen, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EntitySummary, SeriesAnswer, SeriesView } from '../../src-renderer/lib/api'
import { seriesKey } from '../../src-renderer/lib/twin.svelte'
import Overview from '../../src-renderer/routes/Overview.svelte'
import { alarm, detail, entity, type Handler, LINE, lineTwin, SERIES, series, stubApi } from './line-fixture'

const card = (name: string) => screen.getByRole('article', { name })

/** The filler with more series than a card shows large, and a bank of six valves. */
const RICH: Record<string, SeriesView[]> = {
  ...SERIES,
  'device/filler//': [
    series('filling', 'fill_pressure', 'bar', 2.577),
    series('filling', 'speed', 'bottles/min', 120),
    series('filling', 'bottles_filled', 'bottles', 4100),
    series('filling', 'fill_volume', 'ml', 500.2),
    series('filling', 'reject_rate', '%', 0.8),
  ],
  'device/valve-bank//': ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((v, i) =>
    series('valves', `valves.${v}`, 'L/min', 9.5 + i / 10),
  ),
}

/** Entity details from `seriesOf`, and the last minutes of a series as three buckets. */
function answers(seriesOf: Record<string, SeriesView[]> = RICH, entities: EntitySummary[] = LINE): Handler {
  return ({ url }) => {
    const one = /^\/api\/v1\/entities\/([^/]+)$/.exec(url.pathname)
    if (one) {
      const summary = entities.find((e) => e.id === decodeURIComponent(one[1] as string))
      return summary && { ...detail(summary), series: seriesOf[summary.id] ?? [] }
    }
    const history = /^\/api\/v1\/series\/(\d+)$/.exec(url.pathname)
    if (history) {
      const id = Number(history[1])
      const found = Object.values(seriesOf)
        .flat()
        .find((s) => s.id === id)
      const to = Number(url.searchParams.get('to'))
      const answer: Partial<SeriesAnswer> = {
        resolution: 'raw',
        points: [3, 2, 1].map((ago, i) => {
          const value = (found?.lastValue ?? 0) + i
          return { time: to - ago * 60_000, min: value, max: value, avg: value, count: 1 }
        }),
      }
      return answer
    }
    return undefined
  }
}

/**
 * IntersectionObserver as the browser drives it, which jsdom lacks: the test says which elements
 * come on screen or leave it.
 */
function stubIntersections() {
  const observed = new Set<Element>()
  const callbacks = new Set<IntersectionObserverCallback>()
  class FakeObserver {
    constructor(readonly callback: IntersectionObserverCallback) {
      callbacks.add(callback)
    }
    observe(target: Element) {
      observed.add(target)
    }
    unobserve(target: Element) {
      observed.delete(target)
    }
    disconnect() {}
  }
  vi.stubGlobal('IntersectionObserver', FakeObserver)
  const report = (targets: Element[], isIntersecting: boolean) => {
    const entries = targets.map((target) => ({ target, isIntersecting }) as IntersectionObserverEntry)
    for (const callback of callbacks) callback(entries, {} as IntersectionObserver)
  }
  return { observed, show: (...t: Element[]) => report(t, true), hide: (...t: Element[]) => report(t, false) }
}

describe('device cards on the overview', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows the most urgent alarm of a device in words, with how many are open', async () => {
    stubApi(answers())
    const alarms = [
      alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor temperature high'),
      alarm('device/conveyor-drive//', 'vibration', 'minor', 'active', 'Vibration rising'),
      alarm('device/filler//', 'pressure', 'minor', 'acknowledged', 'Fill pressure low'),
    ]
    render(Overview, { twin: lineTwin(LINE, alarms) })

    const drive = within(card('Outfeed Conveyor')).getByRole('article', { name: 'Conveyor Drive VFD' })
    expect(within(drive).getByText(/Motor temperature high/).parentElement).toHaveTextContent(
      'critical: Motor temperature high (2 open)',
    )
    // The conveyor's card carries its child's worst alarm too.
    expect(within(card('Outfeed Conveyor')).getAllByText(/Motor temperature high/)).toHaveLength(2)
    expect(within(card('Filler PLC')).getByText(/Fill pressure low/).parentElement).toHaveTextContent(
      'minor: Fill pressure low (acknowledged)',
    )
  })

  it('folds the services into one line per device and lists them on request', async () => {
    const user = userEvent.setup()
    stubApi(answers())
    render(Overview, { twin: lineTwin() })

    const filler = within(card('Filler PLC'))
    const fold = filler.getByText('Services: 1 of 1 up')
    expect(fold.closest('details')).not.toHaveAttribute('open')
    await user.click(fold)
    expect(fold.closest('details')).toHaveAttribute('open')
    expect(filler.getByRole('link', { name: 'plc-runtime up' })).toBeVisible()

    const drive = within(card('Conveyor Drive VFD'))
    expect(drive.getByText(/^Services: 0 of 1 up/)).toHaveTextContent(
      'Services: 0 of 1 up — condition-monitoring down',
    )
    // No list of every service at the top: one summary line, down ones named with their device.
    const connections = within(screen.getByRole('region', { name: 'Connections' }))
    expect(connections.queryByRole('link', { name: 'plc-runtime' })).toBeNull()
    expect(connections.getByText('Services').parentElement).toHaveTextContent('Services 3 of 4 up')
  })

  it('reaches every series of a device from its card: key values, all sibling values, the rest in place', async () => {
    const user = userEvent.setup()
    stubApi(answers())
    const twin = lineTwin()
    render(Overview, { twin })

    const filler = within(card('Filler PLC'))
    await filler.findByText('Fill pressure')
    expect(filler.getByText('Speed')).toBeInTheDocument()
    expect(filler.getByText('Bottles filled')).toBeInTheDocument()
    expect(filler.queryByText('Fill volume')).toBeNull()
    const more = filler.getByRole('button', { name: '+2 more values' })
    await user.click(more)
    expect(more).toHaveAttribute('aria-expanded', 'true')
    expect(filler.getByText('Fill volume').nextElementSibling).toHaveTextContent('500.2 ml')
    expect(filler.getByText('Reject rate').nextElementSibling).toHaveTextContent('0.8 %')
    await user.click(filler.getByRole('button', { name: 'Fewer values' }))
    expect(filler.queryByText('Fill volume')).toBeNull()

    // All six valves side by side, each live.
    const valves = within(within(card('Fill Valve Bank')).getByRole('group', { name: 'Valves' }))
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'])
      expect(valves.getByText(`Valves ${v}`)).toBeInTheDocument()
    twin.latest.set(seriesKey('device/valve-bank//', 'valves', 'valves.v5'), {
      time: Date.now(),
      value: 3.21,
    })
    await vi.waitFor(() =>
      expect(valves.getByText('Valves v5').nextElementSibling).toHaveTextContent('3.21 L/min'),
    )
  })

  it('draws the last minutes of each key value as a sparkline and extends it live', async () => {
    const fetch = stubApi(answers())
    const twin = lineTwin()
    render(Overview, { twin })

    const tank = card('Buffer Tank T-301')
    await within(tank).findByText('Level')
    await vi.waitFor(() => expect(tank.querySelectorAll('svg.sparkline polyline')).toHaveLength(2))
    const level = tank.querySelector('svg.sparkline polyline') as SVGPolylineElement
    expect(level.getAttribute('points')?.split(' ')).toHaveLength(3)
    const requests = fetch.mock.calls.map(([url]) => new URL(String(url), 'http://x'))
    const history = requests.filter((u) => u.pathname === `/api/v1/series/${RICH['device/tank//']?.[0]?.id}`)
    expect(history).toHaveLength(1)
    const from = Number(history[0]?.searchParams.get('from'))
    const to = Number(history[0]?.searchParams.get('to'))
    expect(to - from).toBe(10 * 60_000)

    twin.latest.set(seriesKey('device/tank//', 'tank', 'level'), { time: Date.now() + 1000, value: 60 })
    await vi.waitFor(() => expect(level.getAttribute('points')?.split(' ')).toHaveLength(4))
  })

  it('marks a value outside the limits set for its series, and nothing where none are set', async () => {
    // The filler's pressure has limits in its settings (low-low only for the low side); nothing else does.
    const withLimits = Object.fromEntries(
      Object.entries(RICH).map(([id, list]) => [
        id,
        list.map((s) =>
          id === 'device/filler//' && s.name === 'fill_pressure'
            ? { ...s, settings: { limits: { lowLow: 1, high: 2.5 } } }
            : s,
        ),
      ]),
    )
    stubApi(answers(withLimits))
    const twin = lineTwin()
    render(Overview, { twin })

    const filler = within(card('Filler PLC'))
    expect(await filler.findByText('above limit 2.5')).toBeInTheDocument()
    expect(screen.getAllByText(/limit/)).toHaveLength(1)
    twin.latest.set(seriesKey('device/filler//', 'filling', 'fill_pressure'), {
      time: Date.now(),
      value: 2.1,
    })
    await vi.waitFor(() => expect(filler.queryByText(/limit/)).toBeNull())
    twin.latest.set(seriesKey('device/filler//', 'filling', 'fill_pressure'), {
      time: Date.now(),
      value: 0.4,
    })
    expect(await filler.findByText('below limit 1')).toBeInTheDocument()
  })

  it('renders the bodies of the cards on screen only, and asks only for their series', async () => {
    const screenful = stubIntersections()
    const machines = Array.from({ length: 300 }, (_, i) =>
      entity(`device/m${i}//`, `Machine ${i}`, 'device/main//', 'child-device', 'up'),
    )
    const entities = [LINE[0] as EntitySummary, ...machines]
    const seriesOf = Object.fromEntries(
      machines.map((m, i) => [m.id, [series('env', 'temperature', '°C', 20 + i)]]),
    )
    const fetch = stubApi(answers(seriesOf, entities))
    const { container } = render(Overview, { twin: lineTwin(entities) })

    // Runs of cards are rendered only near the screen; none is yet, and nothing was asked for.
    const entityRequests = () =>
      fetch.mock.calls
        .map(([url]) => String(url))
        .filter((url) => /^\/api\/v1\/entities\/device%2Fm\d/.test(url))
    expect(screen.queryAllByRole('article')).toHaveLength(0)
    const runs = [...screenful.observed]
    expect(runs).toHaveLength(Math.ceil(300 / 24))
    const empty = container.querySelectorAll('*').length
    screenful.show(runs[0] as Element)
    // The first run's cards are there by name, without their values yet.
    expect(await screen.findAllByRole('article')).toHaveLength(24)
    expect(entityRequests()).toEqual([])
    const idle = container.querySelectorAll('*').length
    expect(idle - empty).toBeLessThan(24 * 12)

    const first = [0, 1, 2, 3].map((i) => card(`Machine ${i}`))
    screenful.show(...first)
    expect(await within(card('Machine 2')).findByText('Temperature')).toBeInTheDocument()
    expect(entityRequests()).toHaveLength(4)
    expect(within(card('Machine 9')).queryByText('Temperature')).toBeNull()
    const shown = container.querySelectorAll('*').length
    expect(shown - idle).toBeLessThan(4 * 40)

    // Scrolled away: the bodies go, the cards (and their names) stay.
    screenful.hide(...first)
    await vi.waitFor(() => expect(within(card('Machine 2')).queryByText('Temperature')).toBeNull())
    expect(container.querySelectorAll('*').length).toBe(idle)
    expect(screenful.observed.size).toBe(runs.length + 24)

    // The run scrolled away altogether: only a box as tall as it was stays.
    screenful.hide(runs[0] as Element)
    await vi.waitFor(() => expect(screen.queryAllByRole('article')).toHaveLength(0))
    expect(container.querySelectorAll('*').length).toBe(empty)
  })
})
