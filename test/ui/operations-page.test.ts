import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OperationView } from '../../src-renderer/lib/api'
import EntityOperations from '../../src-renderer/lib/components/EntityOperations.svelte'
import TopBar from '../../src-renderer/lib/components/TopBar.svelte'
import { href, parseRoute } from '../../src-renderer/lib/router.svelte'
import OperationsPage from '../../src-renderer/routes/OperationsPage.svelte'
import { lineTwin, stubApi } from './line-fixture'
import { FILLER, filler, NOW, operation, operationDetail, recording, state } from './operation-fixture'

const HISTORY: OperationView[] = [
  operation({ id: 3, operation: 'restart', status: 'executing', createdAt: NOW - 10_000 }),
  operation({
    id: 2,
    entity: 'device/conveyor-drive//',
    operation: 'firmware_update',
    status: 'failed',
    terminal: true,
    reason: 'download failed: 404',
    createdAt: NOW - 3_600_000,
    finishedAt: NOW - 3_590_000,
  }),
  operation({
    id: 1,
    operation: 'software_list',
    status: 'successful',
    terminal: true,
    requestedBy: null,
    createdAt: NOW - 7_200_000,
    finishedAt: NOW - 7_199_000,
  }),
]

function core() {
  return recording(({ method, url }) => {
    if (method === 'GET' && url.pathname === '/api/v1/operations') return HISTORY
    const one = /^\/api\/v1\/operations\/(\d+)$/.exec(url.pathname)
    const found = one && HISTORY.find((o) => o.id === Number(one[1]))
    if (found) return operationDetail(found, [state(String(found.status), found.updatedAt, found.reason)])
    return undefined
  })
}

const lastQuery = (requests: ReturnType<typeof core>['requests']) =>
  Object.fromEntries(
    requests.findLast((r) => r.url.pathname === '/api/v1/operations')?.url.searchParams ?? [],
  )
const rowTexts = () =>
  within(screen.getByRole('table', { name: 'Operations, newest first' }))
    .getAllByRole('row')
    .slice(1)
    .map((row) => within(row).getAllByRole('cell')[2]?.textContent?.trim())

describe('Operations page', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('is a route of its own, linked from the top bar', () => {
    expect(parseRoute('#/operations')).toEqual({ name: 'operations' })
    expect(href({ name: 'operations' })).toBe('#/operations')
    render(TopBar, { twin: lineTwin() })
    expect(screen.getByRole('link', { name: 'Operations' })).toHaveAttribute('href', '#/operations')
  })

  it('lists every entity’s operations and filters them by entity, operation, status and time', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(OperationsPage, { twin: lineTwin() })

    await waitFor(() => expect(rowTexts()).toEqual(['Restart #3', 'Firmware update #2', 'Software list #1']))
    expect(lastQuery(requests)).toEqual({ limit: '200' })
    const failed = screen.getByRole('row', { name: /Firmware update #2/ })
    expect(within(failed).getByRole('link', { name: 'Conveyor Drive VFD' })).toHaveAttribute(
      'href',
      '#/entity/device%2Fconveyor-drive%2F%2F',
    )
    expect(failed).toHaveTextContent('download failed: 404')
    expect(failed).toHaveTextContent('10 s')
    expect(screen.getByRole('row', { name: /Software list #1/ })).toHaveTextContent('MQTT')

    const filters = within(screen.getByRole('form', { name: 'Filter operations' }))
    await user.selectOptions(filters.getByRole('combobox', { name: 'Entity' }), 'Filler PLC')
    await user.selectOptions(filters.getByRole('combobox', { name: 'Operation' }), 'Restart')
    await user.selectOptions(filters.getByRole('combobox', { name: 'Status' }), 'In progress')
    await fireEvent.input(filters.getByLabelText('From'), { target: { value: '2026-05-04T08:00' } })
    await waitFor(() =>
      expect(lastQuery(requests)).toEqual({
        entity: FILLER,
        subtree: 'false',
        operation: 'restart',
        status: 'active',
        from: String(new Date('2026-05-04T08:00').getTime()),
        limit: '200',
      }),
    )
    await user.click(filters.getByRole('button', { name: 'Clear filter' }))
    await waitFor(() => expect(lastQuery(requests)).toEqual({ limit: '200' }))
  })

  it('follows the stream: new commands join, those no longer matching the filter leave', async () => {
    const { handler } = core()
    stubApi(handler)
    const user = userEvent.setup()
    const twin = lineTwin()
    render(OperationsPage, { twin })
    await waitFor(() => expect(rowTexts()).toHaveLength(3))

    const upload = operation({
      id: 4,
      operation: 'log_upload',
      status: 'init',
      createdAt: NOW,
      updatedAt: NOW,
    })
    twin.updateOperation(upload)
    await waitFor(() => expect(rowTexts()[0]).toBe('Log upload #4'))

    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'In progress')
    await waitFor(() => expect(rowTexts()).toHaveLength(3))
    twin.updateOperation({ ...upload, status: 'executing', updatedAt: NOW + 1000 })
    await waitFor(() =>
      expect(screen.getByRole('row', { name: /Log upload #4/ })).toHaveTextContent('executing'),
    )
    // An older copy (a request's late answer) does not undo a newer state.
    twin.updateOperation(upload)
    expect(screen.getByRole('row', { name: /Log upload #4/ })).toHaveTextContent('executing')
    twin.updateOperation({ ...upload, status: 'successful', terminal: true, updatedAt: NOW + 2000 })
    await waitFor(() => expect(screen.queryByRole('row', { name: /Log upload #4/ })).toBeNull())
  })

  it('opens an operation above the list and moves focus to it', async () => {
    const { handler } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(OperationsPage, { twin: lineTwin() })
    await user.click(await screen.findByRole('button', { name: 'Details of firmware_update #2' }))
    const details = await screen.findByRole('region', { name: /Firmware update #2/ })
    expect(details).toHaveFocus()
    expect(await within(details).findByText('Reason: download failed: 404')).toBeInTheDocument()
    await user.click(within(details).getByRole('button', { name: 'Close details' }))
    expect(screen.queryByRole('region', { name: /Firmware update #2/ })).toBeNull()
  })

  it('filters an entity’s history by operation and status', async () => {
    const { handler, requests } = core()
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityOperations, { twin: lineTwin(), entity: filler() })
    await waitFor(() =>
      expect(lastQuery(requests)).toEqual({ entity: FILLER, subtree: 'false', limit: '200' }),
    )
    const filters = within(screen.getByRole('form', { name: 'Filter operations' }))
    expect(filters.queryByRole('combobox', { name: 'Entity' })).toBeNull()
    await user.selectOptions(filters.getByRole('combobox', { name: 'Operation' }), 'Software update')
    await user.selectOptions(filters.getByRole('combobox', { name: 'Status' }), 'Failed')
    await waitFor(() =>
      expect(lastQuery(requests)).toEqual({
        entity: FILLER,
        subtree: 'false',
        operation: 'software_update',
        status: 'failed',
        limit: '200',
      }),
    )
  })
})
