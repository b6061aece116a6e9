import { render, screen, waitFor } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OperationView } from '../../src-renderer/lib/api'
import EntityOperations from '../../src-renderer/lib/components/EntityOperations.svelte'
import OperationsPage from '../../src-renderer/routes/OperationsPage.svelte'
import { lineTwin, pageAnswer, stubApi } from './line-fixture'
import { FILLER, filler, NOW, operation, recording } from './operation-fixture'

/** `count` restarts of the filler, ids 1…count, one a minute, newest last. */
const history = (count: number): OperationView[] =>
  Array.from({ length: count }, (_, i) =>
    operation({ id: i + 1, createdAt: NOW - (count - i) * 60_000, updatedAt: NOW - (count - i) * 60_000 }),
  )

/**
 * A core answering GET /api/v1/operations as the real one pages: newest first, `before` and `limit`,
 * and a Link to the next page while older operations are left.
 */
function pagingCore(all: OperationView[]) {
  return recording(({ method, url }) => {
    if (method !== 'GET' || url.pathname !== '/api/v1/operations') return undefined
    const before = Number(url.searchParams.get('before') ?? Number.POSITIVE_INFINITY)
    const limit = Number(url.searchParams.get('limit') ?? 200)
    const older = all.filter((o) => o.id < before).sort((a, b) => b.id - a.id)
    const page = older.slice(0, limit)
    const next = new URLSearchParams(url.searchParams)
    next.set('cursor', String(page.at(-1)?.id))
    return pageAnswer(page, older.length > limit ? `${url.pathname}?${next}` : undefined)
  })
}

type Requests = ReturnType<typeof pagingCore>['requests']
const queries = (requests: Requests) =>
  requests
    .filter((r) => r.url.pathname === '/api/v1/operations')
    .map((r) => Object.fromEntries(r.url.searchParams))
// Pages are 200 long, so the rows are counted and read by selector: role queries over hundreds of
// rows take seconds in jsdom. The controls are still found by role and name.
const table = () => screen.getByRole('table', { name: 'Operations, newest first' })
const bodyRows = () => [...table().querySelectorAll('tbody tr')]
const rowCount = () => bodyRows().length
const older = () => screen.getByRole('status', { name: 'Older operations' })
const loadOlder = async (count: number) => {
  await waitFor(() => expect(rowCount()).toBe(count))
  return screen.getByRole('button', { name: 'Load older' })
}

describe('Load older', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('on the Operations page appends the next page, then hides when a short page says there are no more', async () => {
    const { handler, requests } = pagingCore(history(250))
    stubApi(handler)
    const user = userEvent.setup()
    const twin = lineTwin()
    render(OperationsPage, { twin })

    const button = await loadOlder(200)
    expect(screen.getByText('Showing the latest 200 operations.')).toBeInTheDocument()
    expect(older()).toHaveTextContent('')

    await user.click(button)
    await waitFor(() => expect(older()).toHaveTextContent('Loaded 50 older operations; there are no more.'))
    expect(queries(requests).at(-1)).toEqual({ before: '51', limit: '200' })
    expect(rowCount()).toBe(250)
    expect(bodyRows().at(-1)).toHaveTextContent('Restart #1')
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull()
    // The button went away, so focus moves to the first row it brought, not to the page.
    expect(document.activeElement).toHaveAccessibleName('Details of restart #50')

    // The stream still adds new commands on top, and the older ones stay.
    twin.updateOperation(operation({ id: 251, operation: 'log_upload', createdAt: NOW, updatedAt: NOW }))
    await waitFor(() => expect(rowCount()).toBe(251))
    expect(bodyRows()[0]).toHaveTextContent('Log upload #251')

    // Refresh reads every page shown so far again, in one request.
    await user.click(screen.getByRole('button', { name: 'Refresh' }))
    await waitFor(() => expect(queries(requests).at(-1)).toEqual({ limit: '400' }))
  })

  it('on an entity’s tab keeps the filter, goes when the core says no older ones are left, and a new filter starts over', async () => {
    const { handler, requests } = pagingCore(history(600))
    stubApi(handler)
    const user = userEvent.setup()
    render(EntityOperations, { twin: lineTwin(), entity: filler() })

    let button = await loadOlder(200)
    await user.click(button)
    await waitFor(() => expect(older()).toHaveTextContent('Loaded 200 older operations.'))
    expect(queries(requests).at(-1)).toEqual({
      entity: FILLER,
      subtree: 'false',
      before: '401',
      limit: '200',
    })
    expect(rowCount()).toBe(400)
    // Older ones are left, so the button stays and keeps focus.
    expect(button).toBeInTheDocument()
    expect(button).toHaveFocus()

    button = screen.getByRole('button', { name: 'Load older' })
    await user.click(button)
    await waitFor(() => expect(older()).toHaveTextContent('Loaded 200 older operations; there are no more.'))
    expect(queries(requests).at(-1)).toMatchObject({ before: '201' })
    expect(rowCount()).toBe(600)
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull()
    expect(document.activeElement).toHaveAccessibleName('Details of restart #200')

    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'In progress')
    await waitFor(() =>
      expect(queries(requests).at(-1)).toEqual({
        entity: FILLER,
        subtree: 'false',
        status: 'active',
        limit: '200',
      }),
    )
    expect(await loadOlder(200)).toBeInTheDocument()
    expect(older()).toHaveTextContent('')
  })

  it('says so when an older page cannot be read, and keeps the rows shown', async () => {
    const all = history(201)
    const { handler } = pagingCore(all)
    stubApi((request) =>
      request.url.searchParams.has('before')
        ? new Response(JSON.stringify({ error: 'database is locked' }), { status: 503 })
        : handler(request),
    )
    const user = userEvent.setup()
    render(OperationsPage, { twin: lineTwin() })
    await user.click(await loadOlder(200))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not load older operations: database is locked',
    )
    expect(rowCount()).toBe(200)
    expect(screen.getByRole('button', { name: 'Load older' })).toBeInTheDocument()
  })
})
