import { render, screen } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import Lazy from '../../src-renderer/lib/components/Lazy.svelte'
import SeverityBadge from '../../src-renderer/lib/components/SeverityBadge.svelte'

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
  it('says it is loading, then shows the component with its props', async () => {
    const { load, pending } = deferredLoader()
    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'major', count: 2 } } })
    expect(screen.getByRole('status')).toHaveTextContent('Loading the badge…')

    pending[0]?.resolve({ default: SeverityBadge })
    expect(await screen.findByText(/major\s2/)).toBeInTheDocument()
    expect(screen.queryByRole('status')).not.toBeInTheDocument()
  })

  it('offers Retry when the chunk cannot be fetched', async () => {
    const user = userEvent.setup()
    const { load, pending } = deferredLoader()
    render(Lazy, { props: { load, what: 'the badge', props: { severity: 'minor' } } })
    pending[0]?.reject(new TypeError('Failed to fetch dynamically imported module'))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load the badge: Failed to fetch dynamically imported module')

    await user.click(screen.getByRole('button', { name: 'Retry' }))
    expect(screen.getByRole('status')).toHaveTextContent('Loading the badge…')
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
    expect(pending).toHaveLength(2)
    pending[1]?.resolve({ default: SeverityBadge })
    expect(await screen.findByText('minor')).toBeInTheDocument()
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
