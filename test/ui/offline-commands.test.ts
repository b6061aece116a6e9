import { render, screen } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import OfflineNotice from '../../src-renderer/lib/components/OfflineNotice.svelte'
import OperationForm from '../../src-renderer/lib/components/OperationForm.svelte'
import { link } from '../../src-renderer/lib/connection.svelte'
import { lineTwin, stubApi } from './line-fixture'
import { FILLER, FILLER_PATH, filler, operation, posted, recording } from './operation-fixture'

describe('Commands while EdgeTwin is not connected', () => {
  afterEach(() => {
    link.set(true)
    vi.unstubAllGlobals()
  })

  it('greys them out with the reason, ignores presses and says why, then works again once connected', async () => {
    const user = userEvent.setup()
    const api = recording(({ method, url }) =>
      method === 'POST' && url.pathname === `${FILLER_PATH}/operations`
        ? operation({ id: 31, entity: FILLER, operation: 'restart' })
        : undefined,
    )
    stubApi(api.handler)
    render(OperationForm, { twin: lineTwin(), entity: filler(), operation: 'restart', onsent: () => {} })
    render(OfflineNotice)
    const restart = screen.getByRole('button', { name: 'Restart…' })
    expect(restart).not.toHaveAttribute('aria-disabled')

    link.set(false)
    await vi.waitFor(() => expect(restart).toHaveAttribute('aria-disabled', 'true'))
    expect(restart).toHaveAccessibleDescription('EdgeTwin is not connected')
    await user.click(restart)
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(screen.getByRole('alert')).toHaveTextContent(
      'EdgeTwin is not connected: commands are unavailable until it is back.',
    )

    link.set(true)
    await vi.waitFor(() => expect(restart).not.toHaveAttribute('aria-disabled'))
    expect(restart).not.toHaveAccessibleDescription()
    expect(screen.getByRole('alert')).toBeEmptyDOMElement()
    await user.click(restart)
    const confirm = screen.getByRole('dialog', { name: /^Restart/ })
    expect(confirm).toBeVisible()

    // Lost while the confirmation is open: its command is greyed out too.
    link.set(false)
    const button = screen.getByRole('button', { name: 'Restart' })
    await vi.waitFor(() => expect(button).toHaveAttribute('aria-disabled', 'true'))
    await user.click(button)
    expect(posted(api.requests, `${FILLER_PATH}/operations`)).toEqual([])
    link.set(true)
    await vi.waitFor(() => expect(button).not.toHaveAttribute('aria-disabled'))
    await user.click(button)
    await vi.waitFor(() => expect(posted(api.requests, `${FILLER_PATH}/operations`)).toHaveLength(1))
  })
})
