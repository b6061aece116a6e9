import { fireEvent, render, screen } from '@testing-library/svelte'
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

  describe('with a half-typed edit on the screen', () => {
    /** A form of the page under the kiosk's watch, as a config editor would be. */
    function editor() {
      const form = document.createElement('form')
      form.innerHTML =
        '<textarea aria-label="plc.conf"></textarea><button type="submit">Review changes</button>'
      form.addEventListener('submit', (event) => event.preventDefault())
      document.body.append(form)
      const field = form.querySelector('textarea') as HTMLTextAreaElement
      return {
        form,
        field,
        type: async (text: string) => {
          field.value = text
          await fireEvent.input(field)
        },
      }
    }
    afterEach(() => {
      for (const form of document.querySelectorAll('form')) form.remove()
    })

    it('asks first and counts down, and a tap on Keep editing keeps the edit on screen', async () => {
      const { field, type } = editor()
      render(KioskIdle)
      await type('target_torque_nm = 4.2')
      await vi.advanceTimersByTimeAsync(2 * MINUTE)
      expect(location.hash).toBe('#/alarms')
      const dialog = screen.getByRole('dialog', { name: 'Still working here?' })
      expect(dialog).toHaveTextContent(
        'returns to the overview in 30 s, and your unsaved changes will be lost',
      )
      await vi.advanceTimersByTimeAsync(10_000)
      expect(dialog).toHaveTextContent('in 20 s')

      await fireEvent.click(screen.getByRole('button', { name: 'Keep editing' }))
      expect(screen.queryByRole('dialog')).toBeNull()
      await vi.advanceTimersByTimeAsync(MINUTE)
      expect(location.hash).toBe('#/alarms')
      expect(field.value).toBe('target_torque_nm = 4.2')
      // Still unsaved: the next idle return asks again.
      await vi.advanceTimersByTimeAsync(MINUTE)
      expect(screen.getByRole('dialog', { name: 'Still working here?' })).toBeInTheDocument()
    })

    it('returns after the countdown when nobody answers', async () => {
      const { type } = editor()
      render(KioskIdle)
      await type('tolerance = 0.3')
      await vi.advanceTimersByTimeAsync(2 * MINUTE + 29_000)
      expect(location.hash).toBe('#/alarms')
      await vi.advanceTimersByTimeAsync(1000)
      expect(location.hash).toBe('#/')
      expect(screen.queryByRole('dialog')).toBeNull()
    })

    it('does not ask once the edit was submitted, or when its form is gone', async () => {
      const first = editor()
      render(KioskIdle)
      await first.type('a = 1')
      await fireEvent.submit(first.form)
      const second = editor()
      await second.type('b = 2')
      second.form.remove()
      await vi.advanceTimersByTimeAsync(2 * MINUTE)
      expect(screen.queryByRole('dialog')).toBeNull()
      expect(location.hash).toBe('#/')
    })
  })
})
