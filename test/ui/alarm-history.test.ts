import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmDetailView, AlarmHistoryEntry } from '../../src-renderer/lib/api'
import AlarmTimeline from '../../src-renderer/lib/components/AlarmTimeline.svelte'
import EntityAlarms from '../../src-renderer/lib/components/EntityAlarms.svelte'
import { formatTime } from '../../src-renderer/lib/format'
import AlarmsPage from '../../src-renderer/routes/AlarmsPage.svelte'
import { alarm, LINE, lineTwin, stubApi } from './line-fixture'

const T0 = Date.parse('2026-05-04T08:00:00Z')
const min = (m: number) => T0 + m * 60_000

const HISTORY: AlarmHistoryEntry[] = [
  { kind: 'raised', time: min(0), occurrence: 1 },
  { kind: 'raised', time: min(10), occurrence: 5 },
  { kind: 'raised', time: min(11), occurrence: 6 },
  { kind: 'acknowledged', time: min(12), by: 'ui' },
  { kind: 'shelved', time: min(13), by: 'api', until: min(73), reason: 'Sensor swap' },
  { kind: 'shelf-ended', time: min(73) },
  { kind: 'unshelved', time: min(74), by: 'ui' },
  { kind: 'comment', time: min(75), by: 'ui', text: 'Filter clogged, swapped' },
  { kind: 'cleared', time: min(80), by: 'device' },
]

/** The timeline's own steps (not the times listed inside a folded run of raises). */
const lines = () =>
  within(screen.getByRole('list', { name: 'History' }))
    .getAllByRole('listitem')
    .filter((li) => li.parentElement?.getAttribute('aria-label') === 'History')

describe('AlarmTimeline', () => {
  it('shows each step oldest first with its local date and time, who acted, what was said, and the raises not kept', () => {
    render(AlarmTimeline, { history: HISTORY })
    const items = lines()
    expect(items.map((li) => li.querySelector('.title')?.textContent)).toEqual([
      'Raised',
      '3 raises in between, times not kept',
      'Raised again (5th time)',
      'Raised again (6th time)',
      'Acknowledged by ui',
      `Shelved by api until ${formatTime(min(73))}`,
      'Shelf ended: its time was up',
      'Unshelved by ui',
      'Comment by ui',
      'Cleared by the device',
    ])
    const first = items[0]?.querySelector('time')
    expect(first).toHaveTextContent(formatTime(min(0)))
    expect(first).toHaveAttribute('datetime', '2026-05-04T08:00:00.000Z')
    // The date is part of every time: a history spans days.
    expect(formatTime(min(0))).toMatch(/\d{1,4}\D\d{1,2}\D\d{1,4}/)
    expect(items[1]?.querySelector('time')).toBeNull()
    expect(items[5]).toHaveTextContent('Sensor swap')
    expect(items[8]).toHaveTextContent('Filter clogged, swapped')
  })

  it('folds raises in a row into one line that opens to each time kept', async () => {
    const user = userEvent.setup()
    const chatter: AlarmHistoryEntry[] = [
      { kind: 'raised', time: min(0), occurrence: 1 },
      ...Array.from({ length: 20 }, (_, i) => ({
        kind: 'raised' as const,
        time: min(10 + i),
        occurrence: 6 + i,
      })),
      { kind: 'acknowledged', time: min(40), by: 'ui' },
    ]
    render(AlarmTimeline, { history: chatter })
    const items = lines()
    expect(items.map((li) => li.querySelector('.title')?.textContent)).toEqual([
      'Raised',
      `Raised again 24 times, until ${formatTime(min(29))}`,
      'Acknowledged by ui',
    ])
    expect(items[1]).toHaveTextContent('The times of the first 4 are not kept.')
    const each = within(items[1] as HTMLElement).getByText('Each time')
    expect(each.closest('details')).not.toHaveAttribute('open')
    await user.click(each)
    expect(each.closest('details')).toHaveAttribute('open')
    const times = within(items[1] as HTMLElement).getAllByRole('listitem')
    expect(times).toHaveLength(20)
    expect(times[0]).toHaveTextContent(`${formatTime(min(10))} (6th)`)
    expect(times[19]).toHaveTextContent(`${formatTime(min(29))} (25th)`)
  })
})

describe('alarm details', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('opens from the alarms page, reads the history from the core, and reads it again when the alarm changes', async () => {
    const user = userEvent.setup()
    const current = alarm('device/tank//', 'level_low', 'major', 'active', 'Buffer tank level low: 14.8 %')
    const twin = lineTwin(LINE, [current])
    let history: AlarmHistoryEntry[] = [{ kind: 'raised', time: min(0), occurrence: 1 }]
    const reads: string[] = []
    stubApi(({ method, url }) => {
      if (method !== 'GET' || url.pathname !== `/api/v1/alarms/${current.id}`) return undefined
      reads.push(url.pathname)
      return { ...current, history } satisfies AlarmDetailView
    })
    render(AlarmsPage, { twin })

    await user.click(screen.getByRole('button', { name: 'History of Buffer tank level low: 14.8 %' }))
    const dialog = screen.getByRole('dialog', { name: 'Buffer tank level low: 14.8 %' })
    expect(dialog).toHaveTextContent('Buffer Tank T-301')
    await waitFor(() =>
      expect(lines().map((li) => li.querySelector('.title')?.textContent)).toEqual(['Raised']),
    )

    history = [...history, { kind: 'acknowledged', time: min(2), by: 'ui' }]
    twin.updateAlarm({ ...current, status: 'acknowledged', acknowledgedAt: min(2), acknowledgedBy: 'ui' })
    await waitFor(() => expect(lines()).toHaveLength(2))
    expect(lines()[1]).toHaveTextContent('Acknowledged by ui')
    expect(reads).toHaveLength(2)

    await user.click(within(dialog).getByRole('button', { name: 'Close' }))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('opens from the entity alarms tab, and says so when the history cannot be read', async () => {
    const user = userEvent.setup()
    const current = alarm('device/filler//', 'pressure_low', 'minor', 'active', 'Fill pressure low')
    stubApi(() => new Response(JSON.stringify({ error: 'alarm 1 not found' }), { status: 404 }))
    render(EntityAlarms, { entity: 'device/filler//', twin: lineTwin(LINE, [current]) })

    await user.click(screen.getByRole('button', { name: 'History of Fill pressure low' }))
    const dialog = screen.getByRole('dialog', { name: 'Fill pressure low' })
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(/The history could not be loaded/)
  })
})
