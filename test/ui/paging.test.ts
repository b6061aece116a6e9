import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView, AuditEntryView, EntitySummary, EventView } from '../../src-renderer/lib/api'
import AuditTrail from '../../src-renderer/lib/components/AuditTrail.svelte'
import EntityAlarms from '../../src-renderer/lib/components/EntityAlarms.svelte'
import EventTimeline from '../../src-renderer/lib/components/EventTimeline.svelte'
import Navigator from '../../src-renderer/lib/components/Navigator.svelte'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import AlarmsPage from '../../src-renderer/routes/AlarmsPage.svelte'
import { alarm, entity, LINE, lineTwin, pageAnswer, stubApi, stubStream } from './line-fixture'
import { FILLER, NOW, recording } from './operation-fixture'

// The core answers every list a page at a time, with a Link to the next page. Where the UI needs
// a whole list (the hierarchy, the open alarms) it reads every page; list views load more on demand.

/**
 * Answers `path` from `rows` a page at a time as the core does: `limit` rows (default 3 here, so the
 * pages are small), a `cursor` the index after which the page starts, a Link while rows are left.
 */
function paged(path: string, rows: unknown[], size = 3) {
  return (url: URL) => {
    if (url.pathname !== path) return undefined
    const start = Number(url.searchParams.get('cursor') ?? 0)
    const page = rows.slice(start, start + size)
    const next = new URLSearchParams(url.searchParams)
    next.set('cursor', String(start + size))
    return pageAnswer(page, start + size < rows.length ? `${path}?${next}` : undefined)
  }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('lists the UI needs whole', () => {
  it('the twin reads every page of entities and open alarms, so the tree shows an entity of the last page', async () => {
    const many: EntitySummary[] = [...LINE]
    for (let k = 0; k < 25; k++) many.push(entity(`device/press-${k}//`, `Press ${k}`, 'device/main//'))
    const open: AlarmView[] = Array.from({ length: 7 }, (_, k) =>
      alarm(`device/press-${k}//`, `jam${k}`, 'major'),
    )
    const entities = paged('/api/v1/entities', many, 10)
    const alarms = paged('/api/v1/alarms', open)
    const { handler, requests } = recording(({ url }) => {
      if (url.pathname === '/api/v1/events') return []
      return entities(url) ?? alarms(url)
    })
    stubApi(handler)
    const stream = stubStream()
    const twin = new Twin()
    await twin.start()
    stream.open()
    try {
      expect(twin.entities.size).toBe(many.length)
      expect(twin.alarms).toHaveLength(7)
      const entityReads = requests.filter((r) => r.url.pathname === '/api/v1/entities')
      expect(entityReads.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, '10', '20', '30'])
      expect(entityReads.every((r) => r.url.searchParams.get('limit') === '10000')).toBe(true)

      const user = userEvent.setup()
      render(Navigator, { twin })
      await user.type(screen.getByRole('searchbox', { name: /Filter/ }), 'press 24')
      await waitFor(() =>
        expect(
          within(screen.getByRole('tree')).getByRole('treeitem', { name: /^Press 24/ }),
        ).toBeInTheDocument(),
      )
    } finally {
      twin.stop()
    }
  })
})

describe('list views load more on demand', () => {
  const events: EventView[] = Array.from({ length: 5 }, (_, k) => ({
    id: 100 - k,
    entity: FILLER,
    type: 'stop',
    time: NOW - k * 60_000,
    text: `Stop ${k}`,
    payload: { text: `Stop ${k}` },
  }))

  it('the event timeline follows the Link for older events and hides the button on the last page', async () => {
    const { handler, requests } = recording(({ url }) => paged('/api/v1/events', events)(url))
    stubApi(handler)
    const user = userEvent.setup()
    render(EventTimeline, { entity: FILLER, twin: lineTwin() })
    const timeline = await screen.findByRole('list', { name: 'Events, newest first' })
    await waitFor(() => expect(within(timeline).getAllByRole('listitem')).toHaveLength(3))

    await user.click(screen.getByRole('button', { name: 'Load older events' }))
    await waitFor(() => expect(within(timeline).getAllByRole('listitem')).toHaveLength(5))
    expect(within(timeline).getAllByRole('listitem').at(-1)).toHaveTextContent('Stop 4')
    expect(requests.at(-1)?.url.searchParams.get('cursor')).toBe('3')
    expect(requests.at(-1)?.url.searchParams.get('entity')).toBe(FILLER)
    expect(screen.queryByRole('button', { name: 'Load older events' })).toBeNull()
  })

  it('the audit trail loads older actions page by page', async () => {
    const entries: AuditEntryView[] = Array.from({ length: 4 }, (_, k) => ({
      id: 50 - k,
      time: NOW - k * 1000,
      actor: 'ui',
      action: 'alarm.acknowledge',
      entity: FILLER,
      target: `jam${k}`,
      before: null,
      after: null,
    }))
    stubApi(({ url }) => paged('/api/v1/audit', entries)(url))
    const user = userEvent.setup()
    render(AuditTrail, { twin: lineTwin() })
    await screen.findByText('Showing the latest 3 actions.')
    await user.click(screen.getByRole('button', { name: 'Load older actions' }))
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Load older actions' })).toBeNull())
    expect(screen.getByText('jam3')).toBeInTheDocument()
  })

  it('cleared alarms, of one entity and of all, load older ones on demand', async () => {
    const cleared = Array.from({ length: 4 }, (_, k) =>
      alarm(FILLER, `torque${k}`, 'minor', 'cleared', `Torque drift ${k}`),
    )
    stubApi(({ url }) => paged('/api/v1/alarms', cleared)(url))
    const user = userEvent.setup()
    const entityView = render(EntityAlarms, { entity: FILLER, twin: lineTwin() })
    await user.click(screen.getByRole('checkbox', { name: 'Show cleared alarms' }))
    await screen.findByText('Torque drift 2')
    expect(screen.queryByText('Torque drift 3')).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Load older cleared alarms' }))
    await screen.findByText('Torque drift 3')
    expect(screen.queryByRole('button', { name: 'Load older cleared alarms' })).toBeNull()
    entityView.unmount()

    render(AlarmsPage, { twin: lineTwin() })
    await user.click(screen.getByRole('checkbox', { name: 'cleared' }))
    await screen.findByText('Showing the latest 3 cleared alarms.')
    await user.click(screen.getByRole('button', { name: 'Load older cleared alarms' }))
    await screen.findByText('Torque drift 3')
    expect(screen.queryByText(/Showing the latest/)).toBeNull()
  })
})
