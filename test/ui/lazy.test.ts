import { render, screen } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import Lazy from '../../src-renderer/lib/components/Lazy.svelte'
import SeverityBadge from '../../src-renderer/lib/components/SeverityBadge.svelte'
import { link } from '../../src-renderer/lib/connection.svelte'

type Module = { default: typeof SeverityBadge }

/** A loader whose chunk arrives (or fails) when the test says so. */
function deferredLoader() {
  const pending: Array<{ resolve: (module: Module) => void; reject: (error: Error) => void }> = []
  const load = () =>
    new Promise<Module>((resolve, reject) => {
      pending.push({ resolve, reject })
    })
  return { load, pending }
}

describe('Lazy', () => {
  afterEach(() => {
    vi.useRealTimers()
    link.set(true)
    sessionStorage.clear()
  })

  it('says it is loading, then shows the component with its props', async () => {
    const { load, pending } = deferredLoader()
    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'major', count: 2 } } })
    expect(screen.getByRole('status')).toHaveTextContent('Loading the badge…')

    pending[0]?.resolve({ default: SeverityBadge })
    expect(await screen.findByText(/major\s2/)).toBeInTheDocument()
    expect(screen.queryByRole('status')).not.toBeInTheDocument()
  })

  it('waits for EdgeTwin when the chunk cannot be fetched, and tries again by itself', async () => {
    vi.useFakeTimers()
    const { load, pending } = deferredLoader()
    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'minor' } } })
    pending[0]?.reject(new TypeError('Unable to preload CSS for /assets/OperationStatus-YPbfbJFF.css'))
    await vi.waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent('Waiting for EdgeTwin to load the badge…'),
    )
    expect(screen.queryByText(/preload|assets/)).not.toBeInTheDocument()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()

    await vi.advanceTimersByTimeAsync(1000)
    expect(pending).toHaveLength(2)
    pending[1]?.resolve({ default: SeverityBadge })
    await vi.waitFor(() => expect(screen.getByText('minor')).toBeInTheDocument())
    expect(screen.queryByRole('status')).not.toBeInTheDocument()
  })

  it('tries again at once when EdgeTwin is connected again', async () => {
    vi.useFakeTimers()
    link.set(false)
    const { load, pending } = deferredLoader()
    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'major' } } })
    pending[0]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    await screen.findByText(/Waiting for EdgeTwin/)
    await vi.advanceTimersByTimeAsync(500)
    expect(pending).toHaveLength(1)

    link.set(true)
    await vi.waitFor(() => expect(pending).toHaveLength(2))
    pending[1]?.resolve({ default: SeverityBadge })
    expect(await screen.findByText('major')).toBeInTheDocument()
  })

  it('reloads the page once when EdgeTwin answers but the chunk still cannot be loaded', async () => {
    vi.useFakeTimers()
    const reload = vi.fn()
    const { load, pending } = deferredLoader()
    const first = render(Lazy, { props: { load, what: 'the badge', props: { severity: 'major' }, reload } })
    pending[0]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    await screen.findByText(/Waiting for EdgeTwin/)
    await vi.advanceTimersByTimeAsync(1000)
    pending[1]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))

    // Not in a loop: on the reloaded page the same failures keep it waiting and retrying instead.
    first.unmount()
    const again = deferredLoader()
    render(Lazy, { props: { load: again.load, what: 'the badge', props: { severity: 'major' }, reload } })
    again.pending[0]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    await vi.advanceTimersByTimeAsync(1000)
    again.pending[1]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    await vi.advanceTimersByTimeAsync(2000)
    expect(again.pending).toHaveLength(3)
    expect(reload).toHaveBeenCalledTimes(1)
    expect(screen.getByRole('status')).toHaveTextContent('Waiting for EdgeTwin to load the badge…')
  })

  it('shows a component already loaded at once', async () => {
    const { load, pending } = deferredLoader()
    const first = render(Lazy, { props: { load, what: 'the badge', props: { severity: 'warning' } } })
    pending[0]?.resolve({ default: SeverityBadge })
    await screen.findByText('warning')
    first.unmount()

    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'critical' } } })
    expect(screen.getByText('critical')).toBeInTheDocument()
    expect(screen.queryByRole('status')).not.toBeInTheDocument()
    expect(pending).toHaveLength(1)
  })
})
