import { render, screen, within } from '@testing-library/svelte'
import { flushSync } from 'svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EntitySummary, HealthStatus, SeriesView } from '../../src-renderer/lib/api'
import EntityHeader from '../../src-renderer/lib/components/EntityHeader.svelte'
import HealthDot from '../../src-renderer/lib/components/HealthDot.svelte'
import LiveValue from '../../src-renderer/lib/components/LiveValue.svelte'
import Navigator from '../../src-renderer/lib/components/Navigator.svelte'
import { seriesKey } from '../../src-renderer/lib/twin.svelte'
import { detail, entity, LINE, lineTwin } from './line-fixture'

const NOW = Date.parse('2026-05-04T10:00:00Z')
const DRIVE = 'device/conveyor-drive//'

function reading(overrides: Partial<SeriesView> = {}): SeriesView {
  return {
    id: 1,
    type: 'drive',
    name: 'motor_temperature',
    unit: '°C',
    lastTime: NOW - 2000,
    lastValue: 37.57,
    expectedPeriod: 1000,
    periodSource: 'learned',
    staleAfter: 10_000,
    stale: false,
    ...overrides,
  }
}

function withHealth(e: EntitySummary, status: HealthStatus, reason: string): EntitySummary {
  return { ...e, health: { status, reported: 'up', reason, updatedAt: NOW, source: 'endpoint' } }
}

describe('the age of a value', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      now: NOW,
      toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'],
    })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('shows a fresh value plainly and a value past its limit greyed with how old it is', () => {
    const twin = lineTwin()
    render(LiveValue, { twin, entity: DRIVE, series: reading() })
    const fresh = screen.getByText('Motor temperature').parentElement as HTMLElement
    expect(fresh).not.toHaveClass('stale')
    expect(fresh).toHaveTextContent(/^Motor temperature 37\.57 °C$/)

    render(LiveValue, {
      twin,
      entity: DRIVE,
      series: reading({ id: 2, name: 'current', lastTime: NOW - 5 * 60_000 }),
    })
    const old = screen.getByText('Current').parentElement as HTMLElement
    expect(old).toHaveClass('stale')
    expect(old).toHaveTextContent('stale, 5 min ago')
  })

  it('ticks on the shared clock without fetching: one timer however many values', async () => {
    const fetch = vi.fn()
    vi.stubGlobal('fetch', fetch)
    const twin = lineTwin()
    for (let i = 0; i < 40; i++)
      render(LiveValue, { twin, entity: DRIVE, series: reading({ id: 100 + i, name: `value_${i}` }) })
    // The shared clock's timer, and nothing per value.
    expect(vi.getTimerCount()).toBe(1)
    const first = screen.getByText('Value 0').parentElement as HTMLElement
    expect(first).not.toHaveClass('stale')

    // 2 s old at the start; the limit is 10 s: stale once 8 more seconds have passed.
    await vi.advanceTimersByTimeAsync(7000)
    flushSync()
    expect(first).not.toHaveClass('stale')
    await vi.advanceTimersByTimeAsync(2000)
    flushSync()
    expect(first).toHaveClass('stale')
    expect(first).toHaveTextContent('11 s ago')
    await vi.advanceTimersByTimeAsync(3000)
    flushSync()
    expect(first).toHaveTextContent('14 s ago')
    expect(fetch).not.toHaveBeenCalled()
    vi.unstubAllGlobals()
  })

  it('is fresh again when a new value arrives on the stream', async () => {
    const twin = lineTwin()
    render(LiveValue, { twin, entity: DRIVE, series: reading({ lastTime: NOW - 60_000 }) })
    const value = screen.getByText('Motor temperature').parentElement as HTMLElement
    expect(value).toHaveClass('stale')
    twin.latest.set(seriesKey(DRIVE, 'drive', 'motor_temperature'), { time: NOW, value: 38.1 })
    flushSync()
    expect(value).not.toHaveClass('stale')
    expect(value).toHaveTextContent('38.1')
  })

  it('greys every value of an entity whose communication is lost, even without a learned period', () => {
    const entities = LINE.map((e) =>
      e.id === DRIVE ? withHealth(e, 'stale', 'communication lost: no new values (expected every 1 s)') : e,
    )
    render(LiveValue, {
      twin: lineTwin(entities),
      entity: DRIVE,
      series: reading({ expectedPeriod: null, periodSource: null, staleAfter: null }),
    })
    expect(screen.getByText('Motor temperature').parentElement).toHaveClass('stale')
  })
})

describe('communication lost as its own state', () => {
  it('reads differently from down, in words and in shape', () => {
    render(HealthDot, { status: 'stale', reason: 'communication lost: no new values (expected every 1 s)' })
    render(HealthDot, { status: 'down' })
    const lost = screen.getByText('communication lost').parentElement as HTMLElement
    const down = screen.getByText('down').parentElement as HTMLElement
    expect(lost).toHaveClass('stale')
    expect(lost.querySelector('.dot')).toHaveClass('stale')
    expect(down.querySelector('.dot')).toHaveClass('down')
    expect(lost).toHaveAttribute('title', 'communication lost: no new values (expected every 1 s)')
  })

  it('is named in the tree, next to down', () => {
    location.hash = '#/'
    const entities = [
      ...LINE.map((e) => (e.id === 'device/tank//' ? withHealth(e, 'stale', 'communication lost') : e)),
      entity('device/silo//', 'Silo', 'device/main//', 'child-device', 'down'),
    ]
    render(Navigator, { twin: lineTwin(entities) })
    const tree = screen.getByRole('tree', { name: 'Equipment' })
    const tank = within(tree).getByRole('treeitem', { name: /^Buffer Tank T-301/ })
    expect(tank).toHaveAttribute('aria-label', 'Buffer Tank T-301, health communication lost')
    expect(tank).toHaveTextContent('comm lost')
    expect(tank).not.toHaveTextContent('down')
    const silo = within(tree).getByRole('treeitem', { name: /^Silo/ })
    expect(silo).toHaveAttribute('aria-label', 'Silo, health down')
    expect(silo).not.toHaveTextContent('comm lost')
  })
})

describe('the entity header', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW + 6 * 60_000, toFake: ['setInterval', 'clearInterval', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('says why an entity is communication lost, once', () => {
    const drive = withHealth(
      LINE.find((e) => e.id === DRIVE) as EntitySummary,
      'stale',
      'reported up, but communication lost: no new values (expected every 1 s)',
    )
    const twin = lineTwin(LINE.map((e) => (e.id === DRIVE ? drive : e)))
    render(EntityHeader, { entity: detail(drive), twin })
    const title = screen.getByRole('heading', { level: 1, name: 'Conveyor Drive VFD' })
      .parentElement as HTMLElement
    expect(title).toHaveTextContent(
      'communication lost reported up, but communication lost: no new values (expected every 1 s)',
    )
  })

  it('shows a reported up as a report with its age, not as live contact', () => {
    const service = LINE.find((e) => e.id === 'device/filler/service/plc-runtime') as EntitySummary
    render(EntityHeader, { entity: detail(service), twin: lineTwin() })
    const title = screen.getByRole('heading', { level: 1, name: 'plc-runtime' }).parentElement as HTMLElement
    expect(title).toHaveTextContent('up reported 6 min ago')
  })
})
