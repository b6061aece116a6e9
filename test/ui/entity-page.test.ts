import './uplot-env'
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView, EntityDetail, EventView, SeriesPointView } from '../../src-renderer/lib/api'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import EntityPage from '../../src-renderer/routes/EntityPage.svelte'

const NO_PERIOD = { expectedPeriod: null, periodSource: null, staleAfter: null, stale: false }
const NOW = Date.parse('2026-05-04T10:00:00Z')
const FILLER = 'device/filler//'
/** What the chart area measures in these tests (jsdom has no layout). */
const WIDTH = 800

const fragment = (value: unknown) => ({ value, version: 1, updatedAt: NOW - 60_000 })

const detail: EntityDetail = {
  id: FILLER,
  type: 'child-device',
  parent: 'device/main//',
  externalId: 'plant-brno:filler',
  name: 'Filler PLC',
  health: { status: 'up', reported: 'up', reason: 'reported up', updatedAt: NOW, source: 'own' },
  lastSeen: NOW - 2000,
  activeAlarms: { critical: 0, major: 1, minor: 0, warning: 0 },
  registration: {
    '@type': 'child-device',
    '@parent': 'device/main//',
    name: 'Filler PLC',
    type: 'FillerPLC',
  },
  autoRegistered: false,
  registeredAt: NOW - 3_600_000,
  healthEndpoint: null,
  twin: {
    name: fragment('Filler PLC'),
    serialNumber: fragment('AF24-PLC-0093317'),
    firmware: fragment({ name: 'plc-runtime', version: '3.11.4' }),
    hardware: fragment({ revision: 'D2' }),
  },
  config: null,
  capabilities: { restart: {}, config_snapshot: { types: ['recipes.json', 'plc.conf'] } },
  children: ['device/valve-bank//', 'device/filler/service/plc-runtime'],
  series: [
    {
      id: 6,
      type: 'filling',
      name: 'fill_pressure',
      unit: 'bar',
      lastTime: NOW,
      lastValue: 2.57,
      ...NO_PERIOD,
    },
    {
      id: 7,
      type: 'filling',
      name: 'speed',
      unit: 'bottles/min',
      lastTime: NOW,
      lastValue: 120,
      ...NO_PERIOD,
    },
  ],
}

const alarm: AlarmView = {
  id: 7,
  entity: FILLER,
  type: 'fill_pressure_low',
  severity: 'major',
  text: 'Fill pressure low',
  status: 'active',
  count: 3,
  firstTime: NOW - 600_000,
  lastTime: NOW - 60_000,
  payload: {},
  acknowledgedAt: null,
  acknowledgedBy: null,
  clearedAt: null,
  clearedBy: null,
  shelvedUntil: null,
  shelvedBy: null,
  shelveReason: null,
  comments: [],
  firstOut: false,
  occurrences: [NOW - 600_000, NOW - 300_000, NOW - 60_000],
}

const events: EventView[] = [
  {
    id: 12,
    entity: FILLER,
    type: 'stop',
    time: NOW - 60_000,
    text: 'Line stopped: bottle jam at the infeed',
    payload: { text: 'Line stopped: bottle jam at the infeed', reason: 'jam', station: 4 },
  },
  {
    id: 11,
    entity: FILLER,
    type: 'batch_start',
    time: NOW - 120_000,
    text: 'Batch L3-00001 started',
    payload: { text: 'Batch L3-00001 started', batch: { id: 'L3-00001', target: 600 } },
  },
]

const point = (time: number, value: number): SeriesPointView => ({
  time,
  min: value,
  max: value,
  avg: value,
  count: 1,
})
const VALUES: Record<number, number> = { 6: 2.5, 7: 120 }

type Call = { method: string; url: URL }
let calls: Call[] = []

/** Answers like the core, for the one entity of these tests. */
function core(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(String(input), 'http://edgetwin.test')
  const method = init.method ?? 'GET'
  calls.push({ method, url })
  const json = (body: unknown) => Promise.resolve(Response.json(body))
  const path = url.pathname
  if (path === `/api/v1/entities/${encodeURIComponent(FILLER)}`) return json(detail)
  const series = path.match(/^\/api\/v1\/series\/(\d+)$/)
  if (series) {
    const id = Number(series[1])
    const to = Number(url.searchParams.get('to'))
    const points = [point(to - 2000, VALUES[id] as number), point(to - 1000, (VALUES[id] as number) + 0.1)]
    return json({ series: detail.series.find((s) => s.id === id), resolution: 'raw', points })
  }
  if (path === '/api/v1/events') {
    const type = url.searchParams.get('type')
    return json(events.filter((e) => !type || e.type === type))
  }
  if (path === '/api/v1/alarms') return json([])
  if (path === `/api/v1/entities/${encodeURIComponent(FILLER)}/desired`)
    return json({
      entity: FILLER,
      version: 0,
      syncedVersion: null,
      properties: [],
      supported: false,
      command: null,
    })
  if (path === '/api/v1/sync/conflicts') return json([])
  if (path === '/api/v1/alarms/7/acknowledge' && method === 'POST')
    return json({ ...alarm, status: 'acknowledged', acknowledgedAt: Date.now(), acknowledgedBy: 'ui' })
  return Promise.resolve(Response.json({ error: 'not found' }, { status: 404 }))
}

/** jsdom's Blob has no text(). */
const read = (blob: Blob) =>
  new Promise<string>((resolve) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.readAsText(blob)
  })

const seriesCalls = () => calls.filter((c) => c.url.pathname.startsWith('/api/v1/series/'))
const query = (call: Call | undefined) => Object.fromEntries(call?.url.searchParams ?? [])

function twin(): Twin {
  const live = new Twin()
  const {
    twin: _,
    registration,
    autoRegistered,
    registeredAt,
    healthEndpoint,
    config,
    capabilities,
    children,
    series,
    ...summary
  } = detail
  live.entities.set(FILLER, summary)
  live.entities.set('device/main//', {
    ...summary,
    id: 'device/main//',
    parent: null,
    type: 'device',
    name: 'Filling Line 3',
  })
  live.entities.set('device/valve-bank//', {
    ...summary,
    id: 'device/valve-bank//',
    parent: FILLER,
    name: 'Fill Valve Bank',
  })
  live.alarms = [alarm]
  return live
}

async function open(live = twin()) {
  const user = userEvent.setup()
  render(EntityPage, { twin: live, id: FILLER })
  await screen.findByRole('heading', { level: 1, name: 'Filler PLC' })
  return { user, live }
}

describe('EntityPage', () => {
  beforeEach(() => {
    calls = []
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

  it('shows who the entity is, its twin, device profile and capabilities', async () => {
    const { user } = await open()
    expect(screen.getByText(FILLER)).toBeInTheDocument()
    expect(screen.getByText('up')).toBeInTheDocument()
    expect(screen.getByText('last seen 2 s ago')).toBeInTheDocument()
    expect(screen.getByText(/^major\s1$/)).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Filling Line 3' })).toHaveAttribute(
      'href',
      '#/entity/device%2Fmain%2F%2F',
    )
    expect(screen.getByRole('link', { name: 'Fill Valve Bank' })).toHaveAttribute(
      'href',
      '#/entity/device%2Fvalve-bank%2F%2F',
    )

    await user.click(screen.getByRole('tab', { name: 'Twin & profile' }))
    const twinTable = screen.getByRole('table')
    const serial = within(twinTable).getByRole('row', { name: /serialNumber/ })
    expect(serial).toHaveTextContent('AF24-PLC-0093317')
    const hardware = within(twinTable).getByRole('row', { name: /hardware/ })
    expect(within(hardware).getByText('revision').nextElementSibling).toHaveTextContent('D2')
    expect(screen.getByText('plc-runtime 3.11.4')).toBeInTheDocument()
    expect(screen.getByText('Configuration files: recipes.json, plc.conf')).toBeInTheDocument()
    expect(screen.getByText('Software').nextElementSibling).toHaveTextContent('not reported')
    const operations = screen.getByRole('list', { name: 'Operations this entity accepts' })
    expect(
      within(operations)
        .getAllByRole('listitem')
        .map((li) => li.querySelector('code')?.textContent),
    ).toEqual(['restart', 'config_snapshot'])
    expect(screen.getByText('plant-brno:filler')).toBeInTheDocument()
  })

  it('moves between tabs with the arrow keys', async () => {
    const { user } = await open()
    const first = screen.getByRole('tab', { name: 'Measurements (2)' })
    expect(first).toHaveAttribute('aria-selected', 'true')
    expect(screen.getByRole('tabpanel', { name: 'Measurements (2)' })).toBeInTheDocument()
    first.focus()
    await user.keyboard('{ArrowRight}')
    expect(screen.getByRole('tab', { name: 'Twin & profile' })).toHaveFocus()
    expect(screen.getByRole('tabpanel', { name: 'Twin & profile' })).toBeInTheDocument()
    await user.keyboard('{ArrowLeft}{ArrowLeft}')
    expect(screen.getByRole('tab', { name: 'Audit' })).toHaveAttribute('aria-selected', 'true')
    expect(
      screen.getAllByRole('tab').map((tab) => tab.textContent),
      'Configuration shows because the filler declares config_snapshot',
    ).toEqual([
      'Measurements (2)',
      'Twin & profile',
      'Desired',
      'Events',
      'Alarms (1 open)',
      'Operations',
      'Configuration',
      'Audit',
    ])
  })

  it('loads the desired, operations, configuration and audit tabs when they are first opened', async () => {
    const { user } = await open()
    // The first import compiles the tab's components: give it more than findBy's default second.
    const slow = { timeout: 15_000 }
    await user.click(screen.getByRole('tab', { name: 'Desired' }))
    expect(await screen.findByRole('note', {}, slow)).toHaveTextContent(
      'Filler PLC has not declared the desired_update operation',
    )
    expect(screen.getByRole('form', { name: 'Add a desired property' })).toBeInTheDocument()

    await user.click(screen.getByRole('tab', { name: 'Operations' }))
    const panel = screen.getByRole('tabpanel', { name: 'Operations' })
    expect(await within(panel).findByRole('heading', { name: 'Run an operation' }, slow)).toBeInTheDocument()

    await user.click(screen.getByRole('tab', { name: 'Configuration' }))
    expect(await screen.findByRole('combobox', { name: 'Configuration file' }, slow)).toHaveValue(
      'recipes.json',
    )

    await user.click(screen.getByRole('tab', { name: 'Audit' }))
    expect(await screen.findByRole('form', { name: 'Filter the audit trail' }, slow)).toBeInTheDocument()

    // Loaded once, a tab opens again at once.
    await user.click(screen.getByRole('tab', { name: 'Operations' }))
    expect(screen.getByRole('heading', { name: 'Run an operation' })).toBeInTheDocument()
  })

  it('loads each range with its window and about one point per pixel', async () => {
    const { user } = await open()
    await waitFor(() => expect(seriesCalls()).toHaveLength(2))
    expect(seriesCalls().map((c) => c.url.pathname)).toEqual(['/api/v1/series/6', '/api/v1/series/7'])
    expect(query(seriesCalls()[0])).toEqual({
      from: String(NOW - 300_000),
      to: String(NOW),
      points: String(WIDTH),
    })
    expect(screen.getByRole('button', { name: 'Live' })).toHaveAttribute('aria-pressed', 'true')

    const spans = { '1 h': 3_600_000, '24 h': 86_400_000, '7 d': 7 * 86_400_000, '30 d': 30 * 86_400_000 }
    for (const [label, span] of Object.entries(spans)) {
      calls = []
      await user.click(screen.getByRole('button', { name: label }))
      await waitFor(() => expect(seriesCalls()).toHaveLength(2))
      expect(query(seriesCalls()[1])).toEqual({
        from: String(NOW - span),
        to: String(NOW),
        points: String(WIDTH),
      })
      expect(screen.getByRole('button', { name: label })).toHaveAttribute('aria-pressed', 'true')
    }

    calls = []
    await user.click(screen.getByRole('button', { name: 'Custom' }))
    const form = screen.getByRole('form', { name: 'Custom time range' })
    await fireEvent.input(within(form).getByLabelText('From'), { target: { value: '2026-05-01T08:00' } })
    await fireEvent.input(within(form).getByLabelText('To'), { target: { value: '2026-05-01T09:30' } })
    await user.click(within(form).getByRole('button', { name: 'Show' }))
    await waitFor(() => expect(seriesCalls()).toHaveLength(2))
    expect(query(seriesCalls()[0])).toMatchObject({
      from: String(new Date('2026-05-01T08:00').getTime()),
      to: String(new Date('2026-05-01T09:30').getTime()),
    })
  })

  it('exports what the chart shows as CSV', async () => {
    const blobs: Blob[] = []
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      blobs.push(blob as Blob)
      return 'blob:edgetwin/1'
    })
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {})
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    const { user } = await open()
    await user.click(screen.getByRole('button', { name: '1 h' }))
    await screen.findByText(/Showing .* raw values/)

    await user.click(screen.getByRole('button', { name: 'Export CSV' }))
    expect(click).toHaveBeenCalledOnce()
    expect(click.mock.contexts[0]).toHaveAttribute('download', 'Filler_PLC-20260504-0900.csv')
    expect(blobs[0]?.type).toBe('text/csv')
    expect(await read(blobs[0] as Blob)).toBe(
      'time,filling.fill_pressure [bar],filling.speed [bottles/min]\r\n' +
        '2026-05-04T09:59:58.000Z,2.5,120\r\n' +
        '2026-05-04T09:59:59.000Z,2.6,120.1\r\n',
    )
  })

  it('acknowledges an alarm only after confirmation', async () => {
    const { user } = await open()
    await user.click(screen.getByRole('tab', { name: 'Alarms (1 open)' }))
    const row = screen.getByRole('row', { name: /Fill pressure low/ })
    expect(row).toHaveTextContent('active')
    expect(row).toHaveTextContent('3')

    await user.click(within(row).getByRole('button', { name: 'Acknowledge Fill pressure low' }))
    const dialog = screen.getByRole('dialog', { name: 'Acknowledge alarm?' })
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(calls.filter((c) => c.method === 'POST')).toEqual([])

    await user.click(within(row).getByRole('button', { name: 'Acknowledge Fill pressure low' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Acknowledge' }))
    await waitFor(() =>
      expect(calls.filter((c) => c.method === 'POST').map((c) => c.url.pathname)).toEqual([
        '/api/v1/alarms/7/acknowledge',
      ]),
    )
    await waitFor(() =>
      expect(screen.getByRole('row', { name: /Fill pressure low/ })).toHaveTextContent('acknowledged'),
    )
    // The header counts active (unacknowledged) alarms only.
    expect(screen.queryByText(/^major\s1$/)).not.toBeInTheDocument()
  })

  it('filters the events timeline by type and time, and adds new events live', async () => {
    const { user, live } = await open()
    await user.click(screen.getByRole('tab', { name: 'Events' }))
    const timeline = await screen.findByRole('list', { name: 'Events, newest first' })
    await waitFor(() => expect(within(timeline).getAllByRole('listitem')).toHaveLength(2))
    expect(query(calls.findLast((c) => c.url.pathname === '/api/v1/events'))).toEqual({
      entity: FILLER,
      limit: '200',
    })

    await user.selectOptions(screen.getByRole('combobox', { name: 'Type' }), 'stop')
    await waitFor(() => expect(within(timeline).getAllByRole('listitem')).toHaveLength(1))
    expect(query(calls.findLast((c) => c.url.pathname === '/api/v1/events'))).toEqual({
      entity: FILLER,
      type: 'stop',
      limit: '200',
    })
    await user.click(within(timeline).getByRole('button', { name: /Details/ }))
    expect(within(timeline).getByText('reason').nextElementSibling).toHaveTextContent('jam')

    await fireEvent.input(screen.getByLabelText('From'), { target: { value: '2026-05-04T09:00' } })
    await waitFor(() =>
      expect(query(calls.findLast((c) => c.url.pathname === '/api/v1/events'))).toMatchObject({
        from: String(new Date('2026-05-04T09:00').getTime()),
      }),
    )

    live.events = [
      { id: 13, entity: FILLER, type: 'stop', time: NOW, text: 'Line stopped: no caps' },
      ...live.events,
    ]
    await waitFor(() =>
      expect(within(timeline).getAllByRole('listitem')[0]).toHaveTextContent('Line stopped: no caps'),
    )
  })
})
