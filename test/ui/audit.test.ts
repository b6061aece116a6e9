import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuditEntryView } from '../../src-renderer/lib/api'
import AuditTrail from '../../src-renderer/lib/components/AuditTrail.svelte'
import AuditPage from '../../src-renderer/routes/AuditPage.svelte'
import { lineTwin, stubApi } from './line-fixture'
import { FILLER, NOW, recording } from './operation-fixture'

const OLD_CONFIG = 'mode = auto\nspeed = 120\npressure = 2.5\n'
const NEW_CONFIG = 'mode = auto\nspeed = 140\npressure = 2.5\n'

const ENTRIES: AuditEntryView[] = [
  {
    id: 3,
    time: NOW - 1000,
    actor: 'ui',
    action: 'config.update',
    entity: FILLER,
    target: 'plc.conf',
    before: { version: 3, content: OLD_CONFIG },
    after: { version: 4, content: NEW_CONFIG },
  },
  {
    id: 2,
    time: NOW - 2000,
    actor: 'ui',
    action: 'alarm.acknowledge',
    entity: 'device/tank//',
    target: 'level_low',
    before: { status: 'active' },
    after: { status: 'acknowledged', acknowledgedBy: 'ui' },
  },
  {
    id: 4,
    time: NOW - 2500,
    actor: 'ui',
    action: 'operation.cancel',
    entity: FILLER,
    target: 'software_update/edgetwin-m1-abc',
    before: { status: 'executing' },
    after: null,
  },
  {
    id: 1,
    time: NOW - 3000,
    actor: 'api',
    action: 'operation.request',
    entity: FILLER,
    target: 'restart',
    before: null,
    after: { operation: 'restart' },
  },
]

function core() {
  return recording(({ url }) => (url.pathname === '/api/v1/audit' ? ENTRIES : undefined))
}

const lastQuery = (requests: ReturnType<typeof core>['requests']) =>
  Object.fromEntries(requests.findLast((r) => r.url.pathname === '/api/v1/audit')?.url.searchParams ?? [])

describe('Audit trail', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows before and after of each action readably', async () => {
    stubApi(core().handler)
    render(AuditPage, { twin: lineTwin() })
    const ack = await screen.findByRole('row', { name: /alarm\.acknowledge/ })
    expect(within(ack).getByRole('link', { name: 'Buffer Tank T-301' })).toBeInTheDocument()
    const [status, by] = within(ack).getAllByRole('listitem')
    expect(status?.querySelector('del')).toHaveTextContent('changed from active')
    expect(status?.querySelector('ins')).toHaveTextContent('to acknowledged')
    expect(by).toHaveTextContent(/^acknowledgedBy:\s*ui$/)

    const cancel = screen.getByRole('row', { name: /operation\.cancel/ })
    expect(within(cancel).getByRole('listitem').querySelector('del')).toHaveTextContent(
      'changed from executing',
    )
    expect(within(cancel).getByRole('listitem').querySelector('ins')).toHaveTextContent('to —')

    const request = screen.getByRole('row', { name: /operation\.request/ })
    expect(within(request).getByRole('listitem')).toHaveTextContent(/^operation:\s*restart$/)

    // A configuration file folds away into its diff; the version shows as a plain change.
    const update = screen.getByRole('row', { name: /config\.update/ })
    const [version, content] = within(update).getAllByRole('listitem') as HTMLElement[]
    expect(version?.querySelector('del')).toHaveTextContent('changed from 3')
    expect(version?.querySelector('ins')).toHaveTextContent('to 4')
    await userEvent.setup().click(within(content as HTMLElement).getByText('Show the changes'))
    const diff = within(content as HTMLElement).getByRole('region', { name: 'Changes from before to after' })
    expect(diff.querySelector('del')).toHaveTextContent('speed = 120')
    expect(diff.querySelector('ins')).toHaveTextContent('speed = 140')
  })

  it('folds a long value that has nothing to compare with', async () => {
    const created: AuditEntryView = {
      ...(ENTRIES[2] as AuditEntryView),
      id: 9,
      action: 'config.update',
      before: null,
      after: { version: 1, content: OLD_CONFIG },
    }
    stubApi(({ url }) => (url.pathname === '/api/v1/audit' ? [created] : undefined))
    render(AuditPage, { twin: lineTwin() })
    const row = await screen.findByRole('row', { name: /config\.update/ })
    expect(within(row).getByText('3 lines, 39 characters')).toBeInTheDocument()
  })

  it('exports what the filters select as CSV or JSON', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(AuditPage, { twin: lineTwin() })
    await screen.findByRole('row', { name: /alarm\.acknowledge/ })
    expect(lastQuery(requests)).toEqual({ limit: '500' })
    expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute(
      'href',
      '/api/v1/audit/export?format=csv',
    )
    expect(screen.getByRole('link', { name: 'Export JSON' })).toHaveAttribute(
      'href',
      '/api/v1/audit/export?format=json',
    )

    await user.selectOptions(screen.getByRole('combobox', { name: 'Entity' }), 'Filler PLC')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Action' }), 'config.update')
    await fireEvent.input(screen.getByLabelText('From'), { target: { value: '2026-05-04T08:00' } })
    await fireEvent.input(screen.getByLabelText('To'), { target: { value: '2026-05-04T09:00' } })
    const from = new Date('2026-05-04T08:00').getTime()
    const to = new Date('2026-05-04T09:00').getTime()
    await waitFor(() =>
      expect(lastQuery(requests)).toEqual({
        entity: FILLER,
        action: 'config.update',
        from: String(from),
        to: String(to),
        limit: '500',
      }),
    )
    const query = `entity=device%2Ffiller%2F%2F&action=config.update&from=${from}&to=${to}`
    expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute(
      'href',
      `/api/v1/audit/export?format=csv&${query}`,
    )
    expect(screen.getByRole('link', { name: 'Export JSON' })).toHaveAttribute(
      'href',
      `/api/v1/audit/export?format=json&${query}`,
    )
    expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('download')
  })

  it('shows one entity’s trail on its page, exported for that entity', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    render(AuditTrail, { twin: lineTwin(), entity: FILLER })
    await waitFor(() => expect(lastQuery(requests)).toEqual({ entity: FILLER, limit: '500' }))
    expect(screen.queryByRole('combobox', { name: 'Entity' })).toBeNull()
    expect(screen.queryByRole('columnheader', { name: 'Entity' })).toBeNull()
    expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute(
      'href',
      '/api/v1/audit/export?format=csv&entity=device%2Ffiller%2F%2F',
    )
  })

  it('says when the trail cannot be loaded', async () => {
    stubApi(() => undefined)
    render(AuditPage, { twin: lineTwin() })
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The audit trail could not be loaded: no route GET',
    )
  })
})
