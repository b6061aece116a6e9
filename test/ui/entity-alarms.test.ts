import { render, screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AlarmView } from '../../src-renderer/lib/api'
import EntityAlarms from '../../src-renderer/lib/components/EntityAlarms.svelte'
import { alarm, LINE, lineTwin, stubApi } from './line-fixture'

const FILLER = 'device/filler//'

describe('EntityAlarms', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('comments on an alarm, shelves it with a reason, and unshelves it; each asked first', async () => {
    const user = userEvent.setup()
    let current: AlarmView = alarm(FILLER, 'pressure_low', 'major', 'active', 'Fill pressure low')
    const twin = lineTwin(LINE, [current])
    const posts: Array<[string, unknown]> = []
    stubApi(({ method, url, body }) => {
      if (method !== 'POST') return undefined
      posts.push([url.pathname, body])
      const action = url.pathname.split('/').pop()
      if (action === 'comments') {
        const { text } = body as { text: string }
        current = { ...current, comments: [...current.comments, { time: Date.now(), author: 'ui', text }] }
      } else if (action === 'shelve') {
        const { minutes, reason } = body as { minutes: number; reason: string }
        current = {
          ...current,
          shelvedUntil: Date.now() + minutes * 60_000,
          shelvedBy: 'ui',
          shelveReason: reason,
        }
      } else if (action === 'unshelve')
        current = { ...current, shelvedUntil: null, shelvedBy: null, shelveReason: null }
      else return undefined
      return current
    })
    render(EntityAlarms, { entity: FILLER, twin })
    const row = () => screen.getByRole('row', { name: /Fill pressure low/ })
    expect(within(row()).getByText('major')).toHaveClass('flash')

    await user.click(within(row()).getByRole('button', { name: 'Comment on Fill pressure low' }))
    let dialog = screen.getByRole('dialog', { name: 'Comment on alarm?' })
    await user.type(within(dialog).getByRole('textbox', { name: 'Comment' }), 'Filter clogged, swapped')
    await user.click(within(dialog).getByRole('button', { name: 'Add comment' }))
    const comments = await screen.findByRole('list', { name: 'Comments' })
    expect(comments).toHaveTextContent('ui: Filter clogged, swapped')

    await user.click(within(row()).getByRole('button', { name: 'Shelve Fill pressure low' }))
    dialog = screen.getByRole('dialog', { name: 'Shelve alarm?' })
    await user.click(within(dialog).getByRole('radio', { name: '15 min' }))
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(posts.map(([path]) => path)).toEqual([`/api/v1/alarms/${current.id}/comments`])

    await user.click(within(row()).getByRole('button', { name: 'Shelve Fill pressure low' }))
    dialog = screen.getByRole('dialog', { name: 'Shelve alarm?' })
    await user.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'Pump maintenance')
    await user.click(within(dialog).getByRole('button', { name: 'Shelve' }))
    await waitFor(() => expect(row()).toHaveTextContent(/Shelved until .*Pump maintenance \(ui\)/))
    expect(within(row()).getByText('major')).not.toHaveClass('flash')
    expect(posts[1]).toEqual([
      `/api/v1/alarms/${current.id}/shelve`,
      { minutes: 60, reason: 'Pump maintenance' },
    ])

    await user.click(within(row()).getByRole('button', { name: 'Unshelve Fill pressure low' }))
    await waitFor(() => expect(row()).not.toHaveTextContent('Shelved until'))
    expect(within(row()).getByText('major')).toHaveClass('flash')
    expect(posts.map(([path]) => path.split('/').pop())).toEqual(['comments', 'shelve', 'unshelve'])
  })
})
