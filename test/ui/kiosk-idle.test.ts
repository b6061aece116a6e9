import { fireEvent, render } from '@testing-library/svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import KioskIdle from '../../src-renderer/lib/components/KioskIdle.svelte'

const MINUTE = 60_000

describe('KioskIdle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    location.hash = '#/alarms'
  })
  afterEach(() => {
    vi.useRealTimers()
    location.hash = '#/'
  })

  it('returns to the overview after two minutes without input', async () => {
    render(KioskIdle)
    await vi.advanceTimersByTimeAsync(2 * MINUTE - 1000)
    expect(location.hash).toBe('#/alarms')
    await vi.advanceTimersByTimeAsync(1000)
    expect(location.hash).toBe('#/')
  })

  it('counts the two minutes from the last touch, pointer or key', async () => {
    render(KioskIdle)
    await vi.advanceTimersByTimeAsync(90_000)
    await fireEvent.touchStart(document.body)
    await vi.advanceTimersByTimeAsync(90_000)
    await fireEvent.pointerMove(document.body)
    await vi.advanceTimersByTimeAsync(90_000)
    await fireEvent.keyDown(document.body, { key: 'ArrowDown' })
    await vi.advanceTimersByTimeAsync(2 * MINUTE - 1000)
    expect(location.hash).toBe('#/alarms')
    await vi.advanceTimersByTimeAsync(1000)
    expect(location.hash).toBe('#/')
  })

  it('stops watching once removed', async () => {
    const { unmount } = render(KioskIdle)
    unmount()
    await vi.advanceTimersByTimeAsync(5 * MINUTE)
    expect(location.hash).toBe('#/alarms')
  })
})
