import { render, screen, within } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EntitySummary, StatusView } from '../../src-renderer/lib/api'
import { seriesKey } from '../../src-renderer/lib/twin.svelte'
import Overview from '../../src-renderer/routes/Overview.svelte'
import { alarm, entity, entityDetails, LINE, lineTwin, stubApi } from './line-fixture'

const status: StatusView = {
  version: '0.1.0',
  startedAt: Date.now() - 60_000,
  uptimeSeconds: 60,
  broker: { mode: 'embedded', url: 'mqtt://127.0.0.1:1883', connected: true },
  ingest: { received: 100, rejected: 0, refused: 0, values: 80, pendingWrites: 0 },
  store: { file: '/tmp/edgetwin.db', bytes: 1_000_000 },
  disk: { condition: 'ok', freeBytes: 2 ** 33, reserveBytes: 2 ** 26, since: 0, reason: null },
  logs: { dropped: 0, error: null },
  entities: LINE.length,
  pendingRegistrations: [],
  pendingRegistrationCount: 0,
  simulation: false,
}

const card = (name: string) => screen.getByRole('article', { name })

describe('Overview', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows each device with its health in words, nested children and services', async () => {
    stubApi(entityDetails)
    render(Overview, { twin: lineTwin() })

    expect(screen.getByRole('heading', { level: 1, name: 'Filling Line 3' })).toBeInTheDocument()
    const filler = card('Filler PLC')
    expect(within(filler).getByRole('heading', { name: 'Filler PLC' }).parentElement).toHaveTextContent(
      'Filler PLC health up',
    )
    expect(within(filler).getByRole('article', { name: 'Fill Valve Bank' })).toBeInTheDocument()
    expect(within(filler).getByRole('link', { name: 'plc-runtime up' })).toBeInTheDocument()

    const drive = within(card('Outfeed Conveyor')).getByRole('article', { name: 'Conveyor Drive VFD' })
    expect(
      within(drive).getByRole('heading', { name: 'Conveyor Drive VFD' }).parentElement,
    ).toHaveTextContent('Conveyor Drive VFD health down')
    expect(within(drive).getByRole('link', { name: 'condition-monitoring down' })).toBeInTheDocument()
    expect(
      screen.getAllByRole('article', { name: /./ }).map((a) => a.getAttribute('aria-labelledby')),
    ).toHaveLength(5)
  })

  it('shows the key live values with units and follows the twin, fetching each device once', async () => {
    const fetch = stubApi(entityDetails)
    const twin = lineTwin()
    render(Overview, { twin })

    const filler = card('Filler PLC')
    const pressure = await within(filler).findByText('Fill pressure')
    expect(pressure.nextElementSibling).toHaveTextContent('2.58 bar')
    expect(await screen.findByText('Throughput')).toBeInTheDocument()

    twin.latest.set(seriesKey('device/filler//', 'filling', 'fill_pressure'), {
      time: Date.now(),
      value: 3.104,
    })
    await vi.waitFor(() => expect(pressure.nextElementSibling).toHaveTextContent('3.1 bar'))

    // A health change replaces the entity summary: the cards stay, nothing is fetched again.
    const calls = fetch.mock.calls.length
    const summary = twin.entities.get('device/filler//')
    if (summary)
      twin.entities.set(summary.id, {
        ...summary,
        health: {
          status: 'down',
          reported: 'down',
          reason: 'reported down',
          updatedAt: Date.now(),
          source: 'own',
        },
      })
    await vi.waitFor(() =>
      expect(
        within(card('Filler PLC')).getByRole('heading', { name: 'Filler PLC' }).parentElement,
      ).toHaveTextContent('health down'),
    )
    expect(fetch.mock.calls.length).toBe(calls)
    expect(
      fetch.mock.calls.filter(([url]) => String(url) === '/api/v1/entities/device%2Ffiller%2F%2F'),
    ).toHaveLength(1)
  })

  it('counts open alarms by severity and lists the most urgent first', () => {
    stubApi(entityDetails)
    const alarms = [
      alarm('device/tank//', 'level_low', 'major', 'active', 'Buffer tank level low'),
      alarm('device/conveyor-drive//', 'overtemperature', 'critical', 'active', 'Motor hot'),
      alarm('device/filler//', 'pressure', 'minor', 'acknowledged', 'Pressure low'),
    ]
    render(Overview, { twin: lineTwin(LINE, alarms) })

    const summary = screen.getByRole('region', { name: 'Open alarms' })
    const tiles = within(summary).getAllByRole('listitem').slice(0, 4)
    expect(tiles.map((tile) => tile.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '1 critical',
      '1 major',
      '1 minor acknowledged',
      '0 warning',
    ])
    const urgent = within(
      within(summary).getByRole('list', { name: 'Most urgent open alarms' }),
    ).getAllByRole('listitem')
    expect(urgent.map((item) => within(item).getByRole('link').textContent?.trim())).toEqual([
      'Conveyor Drive VFD',
      'Buffer Tank T-301',
      'Filler PLC',
    ])
    // The conveyor's subtree and the drive itself say what is wrong.
    expect(within(card('Outfeed Conveyor')).getAllByText('Motor hot')).toHaveLength(2)
    expect(within(card('Filler PLC')).getByText('Pressure low').closest('p')).toHaveTextContent(
      'minor: Pressure low (acknowledged)',
    )
  })

  it('says whether the core, the broker and the connectors are connected, and shows recent events', () => {
    stubApi(entityDetails)
    const twin = lineTwin()
    twin.status = status
    twin.events = [
      {
        id: 7,
        entity: 'device/filler//',
        type: 'batch_start',
        time: Date.now(),
        text: 'Batch L3-00007 started',
      },
    ]
    render(Overview, { twin })

    const connections = within(screen.getByRole('region', { name: 'Connections' }))
    const lines = connections
      .getAllByRole('listitem')
      .map((li) => li.textContent?.replace(/\s+/g, ' ').trim())
    expect(lines).toEqual([
      'Core connected',
      'MQTT broker connected',
      'Services 3 of 4 up',
      'condition-monitoring on Conveyor Drive VFD down', // only the ones down, with their device
    ])
    const events = within(screen.getByRole('region', { name: 'Recent events' }))
    expect(events.getByText('Batch L3-00007 started')).toBeInTheDocument()
    expect(events.getByRole('link', { name: 'Filler PLC' })).toBeInTheDocument()
  })

  it('sums up the services of a large plant and names the first few that are down', () => {
    stubApi(entityDetails)
    const agents = Array.from({ length: 20 }, (_, i) =>
      entity(
        `device/main/service/agent-${i}`,
        `agent-${i}`,
        'device/main//',
        'service',
        i % 3 === 0 ? 'down' : 'up',
      ),
    )
    render(Overview, { twin: lineTwin([LINE[0] as EntitySummary, ...agents]) })
    const items = within(screen.getByRole('region', { name: 'Connections' }))
      .getAllByRole('listitem')
      .map((li) => li.textContent?.replace(/\s+/g, ' ').trim())
    expect(items).toEqual([
      'Core connected',
      'MQTT broker unknown',
      'Services 13 of 20 up',
      'agent-0 on Filling Line 3 down',
      'agent-3 on Filling Line 3 down',
      'agent-6 on Filling Line 3 down',
      'agent-9 on Filling Line 3 down',
      'and 3 more down',
    ])
  })

  it('shows the core as not connected when the stream is down', () => {
    stubApi(entityDetails)
    const twin = lineTwin()
    twin.status = status
    twin.connection = 'offline'
    render(Overview, { twin })
    const connections = within(screen.getByRole('region', { name: 'Connections' }))
    expect(connections.getByText('Core').parentElement).toHaveTextContent('Core not connected')
    expect(connections.getByText('MQTT broker').parentElement).toHaveTextContent('MQTT broker unknown')
    expect(connections.getByText('Services as last known: the core is not connected.')).toBeInTheDocument()
  })
})
