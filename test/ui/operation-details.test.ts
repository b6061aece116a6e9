import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { StreamFrame } from '../../src-main/core/api/stream-protocol'
import type { OperationDetail } from '../../src-renderer/lib/api'
import OperationDetails from '../../src-renderer/lib/components/OperationDetails.svelte'
import { Twin } from '../../src-renderer/lib/twin.svelte'
import { LINE, lineTwin, stubApi } from './line-fixture'
import {
  FILLER,
  failWith,
  NOW,
  operation,
  operationDetail,
  posted,
  recording,
  state,
} from './operation-fixture'

const restartRunning = () =>
  operationDetail(
    operation({ id: 7, status: 'executing', cancellable: true, updatedAt: NOW - 50_000 }),
    [state('init', NOW - 60_000), state('executing', NOW - 50_000)],
    '[init] restart requested\n[executing] rebooting',
  )

const restartDone = () =>
  operationDetail(
    operation({ id: 7, status: 'successful', terminal: true, updatedAt: NOW, finishedAt: NOW }),
    [state('init', NOW - 60_000), state('executing', NOW - 50_000), state('successful', NOW)],
  )

/** A core whose answer for operation 7 the test changes as the command moves on. */
function core() {
  let current: OperationDetail = restartRunning()
  const api = recording(({ method, url }) => {
    if (method === 'GET' && url.pathname === '/api/v1/operations/7') return current
    return undefined
  })
  return {
    ...api,
    set: (next: OperationDetail) => {
      current = next
    },
    reads: () =>
      api.requests.filter((r) => r.url.pathname === '/api/v1/operations/7' && r.method === 'GET').length,
  }
}

const states = () =>
  within(screen.getByRole('list', { name: /^States of/ }))
    .getAllByRole('listitem')
    .map((li) => li.textContent?.replace(/\s+/g, ' ').trim())

describe('Operation details', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('shows the states in order with their times, and the reason of a failure', async () => {
    const failed = operationDetail(
      operation({
        id: 8,
        operation: 'software_update',
        status: 'failed',
        terminal: true,
        reason: 'apt-get: package plc-runtime=3.12.0 not found',
        finishedAt: NOW - 30_000,
      }),
      [
        state('init', NOW - 60_000),
        state('executing', NOW - 58_000),
        state('failed', NOW - 30_000, 'apt-get: package plc-runtime=3.12.0 not found'),
      ],
      'Executing: apt-get install plc-runtime=3.12.0\nE: Version not found',
    )
    stubApi(({ url }) => (url.pathname === '/api/v1/operations/8' ? failed : undefined))
    render(OperationDetails, { twin: lineTwin(), id: 8 })

    expect(await screen.findByRole('heading', { name: 'Software update #8' })).toBeInTheDocument()
    const timeline = screen.getByRole('list', { name: 'States of software_update' })
    const items = within(timeline).getAllByRole('listitem')
    expect(items.map((li) => li.querySelector('.name')?.textContent)).toEqual(['init', 'executing', 'failed'])
    expect(items[1]).toHaveTextContent('+2 s')
    expect(items[2]).toHaveTextContent('+30 s')
    expect(items[2]).toHaveTextContent('Reason: apt-get: package plc-runtime=3.12.0 not found')
    expect(items[2]).toHaveAttribute('aria-current', 'step')
    expect(within(timeline).queryByRole('progressbar')).toBeNull()
    for (const li of items)
      expect(within(li).getByText(/\d/, { selector: 'time' })).toHaveAttribute('datetime', expect.any(String))
    expect(screen.getByText('Finished').nextElementSibling).toHaveTextContent('(30 s)')
    expect(screen.getByRole('region', { name: 'Workflow log' })).toHaveTextContent('E: Version not found')
    expect(screen.queryByRole('button', { name: 'Cancel operation' })).toBeNull()
  })

  it('shows progress on the current state and follows the command live', async () => {
    const fake = core()
    stubApi(fake.handler)
    const twin = lineTwin()
    render(OperationDetails, { twin, id: 7 })
    expect(
      await screen.findByRole('progressbar', { name: 'restart in progress: executing' }),
    ).toBeInTheDocument()
    expect(states()).toHaveLength(2)
    const reads = fake.reads()

    // Another command's change does not concern this page.
    twin.updateOperation(operation({ id: 99, status: 'successful', updatedAt: NOW }))
    fake.set(restartDone())
    twin.updateOperation(restartDone())
    await waitFor(() => expect(states()).toHaveLength(3))
    expect(fake.reads()).toBe(reads + 1)
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(screen.getByText('successful', { selector: '.status' })).toBeInTheDocument()
  })

  it('cancels after a confirmation and says when the core refuses', async () => {
    const fake = core()
    let refuse = true
    const handler = recording((request) => {
      if (request.method === 'POST' && request.url.pathname === '/api/v1/operations/7/cancel') {
        if (refuse) return failWith(409, 'restart has already reached a state it cannot leave')
        const cancelled = operationDetail(
          operation({ id: 7, status: 'failed', terminal: true, reason: 'Cancelled by ui', updatedAt: NOW }),
          [...restartRunning().states, state('failed', NOW, 'Cancelled by ui')],
        )
        fake.set(cancelled)
        const { states: _, log: __, ...view } = cancelled
        return view
      }
      return fake.handler(request)
    })
    stubApi(handler.handler)
    const user = userEvent.setup()
    render(OperationDetails, { twin: lineTwin(), id: 7 })

    await user.click(await screen.findByRole('button', { name: 'Cancel operation' }))
    const dialog = screen.getByRole('dialog', { name: 'Cancel restart #7?' })
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(posted(handler.requests, '/api/v1/operations/7/cancel')).toHaveLength(0)

    await user.click(screen.getByRole('button', { name: 'Cancel operation' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel operation' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not cancel: restart has already reached a state it cannot leave',
    )

    refuse = false
    await user.click(screen.getByRole('button', { name: 'Cancel operation' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel operation' }))
    await waitFor(() => expect(states().at(-1)).toContain('Reason: Cancelled by ui'))
    expect(posted(handler.requests, '/api/v1/operations/7/cancel')).toHaveLength(2)
    expect(screen.queryByRole('button', { name: 'Cancel operation' })).toBeNull()
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('shows and offers the file a log upload produced', async () => {
    const upload = operationDetail(
      operation({ id: 9, operation: 'log_upload', status: 'successful', terminal: true, finishedAt: NOW }),
      [state('init', NOW - 5000), state('successful', NOW)],
    )
    stubApi(({ url }) => {
      if (url.pathname === '/api/v1/operations/9') return upload
      if (url.pathname === '/api/v1/operations/9/file')
        return new Response('10:00:01 ERROR fill valve 3 timeout\n', {
          headers: { 'content-type': 'text/plain' },
        })
      return undefined
    })
    render(OperationDetails, { twin: lineTwin(), id: 9 })
    const file = await screen.findByRole('region', { name: 'Content of log_upload-9.txt' })
    expect(file).toHaveTextContent('10:00:01 ERROR fill valve 3 timeout')
    expect(screen.getByRole('link', { name: 'Download' })).toHaveAttribute(
      'href',
      '/api/v1/operations/9/file',
    )
  })

  it('says when a finished snapshot left no file', async () => {
    const snapshot = operationDetail(
      operation({
        id: 10,
        operation: 'config_snapshot',
        status: 'successful',
        terminal: true,
        finishedAt: NOW,
      }),
      [state('successful', NOW)],
    )
    stubApi(({ url }) => (url.pathname === '/api/v1/operations/10' ? snapshot : undefined))
    render(OperationDetails, { twin: lineTwin(), id: 10 })
    expect(await screen.findByText('No file was stored for this operation.')).toBeInTheDocument()
  })

  it('reads the command again when the stream says it changed', async () => {
    class FakeSocket {
      static last: FakeSocket | undefined
      onopen: (() => void) | null = null
      onmessage: ((message: { data: string }) => void) | null = null
      onclose: (() => void) | null = null
      constructor(readonly url: string) {
        FakeSocket.last = this
      }
      close() {}
    }
    vi.stubGlobal('WebSocket', FakeSocket)
    const fake = core()
    stubApi((request) => {
      const path = request.url.pathname
      if (path === '/api/v1/entities') return LINE
      if (path === '/api/v1/alarms' || path === '/api/v1/events') return []
      return fake.handler(request)
    })
    const twin = new Twin()
    await twin.start()
    try {
      FakeSocket.last?.onopen?.()
      render(OperationDetails, { twin, id: 7 })
      await waitFor(() => expect(states()).toHaveLength(2))

      fake.set(restartDone())
      const { states: _, log: __, ...view } = restartDone()
      const frame: StreamFrame = {
        type: 'changes',
        time: NOW,
        changes: [{ kind: 'operation', entity: FILLER, operation: view }],
        droppedEvents: 0,
      }
      FakeSocket.last?.onmessage?.({ data: JSON.stringify(frame) })
      await waitFor(() => expect(states()).toHaveLength(3))
    } finally {
      twin.stop()
    }
  })
})
