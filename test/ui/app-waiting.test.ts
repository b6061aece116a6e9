import './uplot-env'
import { render, screen } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import App from '../../src-renderer/App.svelte'
import { failWith } from './operation-fixture'

describe('App start while EdgeTwin is not answering', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('says it waits for EdgeTwin and continues by itself once it answers', async () => {
    vi.useFakeTimers()
    let up = false
    const fetch = vi.fn(async () => {
      if (!up) throw new TypeError('Failed to fetch')
      return failWith(401, 'not logged in')
    })
    vi.stubGlobal('fetch', fetch)
    render(App)

    expect(await screen.findByRole('heading', { name: 'Waiting for EdgeTwin…' })).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('This page continues by itself as soon as it does.')
    expect(screen.queryByText(/Failed to fetch|not reachable/)).toBeNull()
    await vi.advanceTimersByTimeAsync(1000)
    await vi.advanceTimersByTimeAsync(2000)
    expect(fetch.mock.calls.length).toBe(3)

    up = true
    await vi.advanceTimersByTimeAsync(3000)
    expect(await screen.findByLabelText('API token')).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'Waiting for EdgeTwin…' })).toBeNull()
  })
})
