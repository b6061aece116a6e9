// Zooming a chart's time axis by touch and by keyboard. uPlot's drag-to-zoom listens to the mouse
// only; these pointer handlers add one-finger pan and two-finger pinch, and keys +, −, ← and →.
import type { TimeWindow } from './chart'

/** The shortest window a zoom goes down to: a few samples of a device reporting every second. */
export const MIN_SPAN = 10_000

/** Pixels a finger may wander before a touch is a drag rather than a tap. */
const SLOP = 8

/** `window` scaled by `factor` (< 1 zooms in) around the point at `at` (0 = left edge, 1 = right). */
export function zoomWindow(window: TimeWindow, factor: number, at = 0.5): TimeWindow {
  const span = window.to - window.from
  const next = Math.max(MIN_SPAN, span * factor)
  const pivot = window.from + span * at
  return {
    from: Math.round(pivot - (pivot - window.from) * (next / span)),
    to: Math.round(pivot + (window.to - pivot) * (next / span)),
  }
}

/** `window` moved by `fraction` of its span (positive: later). */
export function panWindow(window: TimeWindow, fraction: number): TimeWindow {
  const shift = Math.round((window.to - window.from) * fraction)
  return { from: window.from + shift, to: window.to + shift }
}

/**
 * The window under two fingers that started at `start` (x positions, px) on `window` and are now
 * at `now`: the times under the fingers stay under them. With one finger, a pan.
 */
export function pinchWindow(window: TimeWindow, width: number, start: number[], now: number[]): TimeWindow {
  const span = window.to - window.from
  const timeAt = (x: number) => window.from + (x / width) * span
  const [a0, b0] = start as [number, number | undefined]
  const [a1, b1] = now as [number, number | undefined]
  if (b0 === undefined || b1 === undefined || Math.abs(b1 - a1) < 10) {
    return panWindow(window, -(a1 - a0) / width)
  }
  const next = Math.max(MIN_SPAN, (span * Math.abs(b0 - a0)) / Math.abs(b1 - a1))
  // The time under the fingers' midpoint at the start stays under their midpoint now.
  const mid0 = timeAt((a0 + b0) / 2)
  const from = mid0 - ((a1 + b1) / 2 / width) * next
  return { from: Math.round(from), to: Math.round(from + next) }
}

/** What a key does to the window, or undefined when the chart does not use it. */
export function keyWindow(key: string, window: TimeWindow): TimeWindow | undefined {
  switch (key) {
    case '+':
    case '=':
      return zoomWindow(window, 0.5)
    case '-':
    case '_':
      return zoomWindow(window, 2)
    case 'ArrowLeft':
      return panWindow(window, -0.25)
    case 'ArrowRight':
      return panWindow(window, 0.25)
    default:
      return undefined
  }
}

/**
 * Follows touch (and pen) pointers on `element`: `preview` with the window while fingers move,
 * `done` once they lift. Mouse pointers are left to uPlot's drag-to-zoom.
 */
export function touchZoom(
  element: HTMLElement,
  current: () => TimeWindow,
  preview: (window: TimeWindow | undefined) => void,
  done: (window: TimeWindow) => void,
): () => void {
  const pointers = new Map<number, number>()
  let start: { window: TimeWindow; xs: number[]; ids: number[] } | undefined
  let last: TimeWindow | undefined
  const x = (event: PointerEvent) => event.clientX - element.getBoundingClientRect().left
  const begin = () => {
    const ids = [...pointers.keys()].slice(0, 2)
    start = { window: last ?? current(), xs: ids.map((id) => pointers.get(id) as number), ids }
  }
  const down = (event: PointerEvent) => {
    if (event.pointerType === 'mouse') return
    element.setPointerCapture?.(event.pointerId)
    pointers.set(event.pointerId, x(event))
    begin()
  }
  const move = (event: PointerEvent) => {
    if (!start || !pointers.has(event.pointerId)) return
    pointers.set(event.pointerId, x(event))
    const now = start.ids.map((id) => pointers.get(id) as number)
    // A tap reads a value (uPlot's cursor); only a real move zooms.
    if (!last && now.every((at, i) => Math.abs(at - (start?.xs[i] as number)) < SLOP)) return
    last = pinchWindow(start.window, Math.max(1, element.clientWidth), start.xs, now)
    preview(last)
  }
  const up = (event: PointerEvent) => {
    if (!pointers.delete(event.pointerId)) return
    if (pointers.size > 0) return begin()
    const moved = last
    start = undefined
    last = undefined
    // The chart keeps showing the new window until the data for it arrives.
    if (moved && event.type !== 'pointercancel') done(moved)
    else preview(undefined)
  }
  element.addEventListener('pointerdown', down)
  element.addEventListener('pointermove', move)
  element.addEventListener('pointerup', up)
  element.addEventListener('pointercancel', up)
  return () => {
    element.removeEventListener('pointerdown', down)
    element.removeEventListener('pointermove', move)
    element.removeEventListener('pointerup', up)
    element.removeEventListener('pointercancel', up)
  }
}
