// Whether an element is on (or near) the screen, for lists too long to render whole: the overview of
// a plant with hundreds of devices renders the bodies of the cards that can be seen, and an outline
// of the rest. One IntersectionObserver per scrolling container, shared by all its elements.

/** How far beyond the visible part an element counts as shown: one screen above and below. */
const MARGIN = '100% 0px'

type Listener = (shown: boolean) => void
const observers = new Map<
  Element | null,
  { observer: IntersectionObserver; listeners: Map<Element, Listener> }
>()

/** The nearest ancestor that scrolls: rootMargin only widens the root, not the containers it clips by. */
function scroller(node: Element): Element | null {
  for (let parent = node.parentElement; parent; parent = parent.parentElement) {
    const overflow = getComputedStyle(parent).overflowY
    if (overflow === 'auto' || overflow === 'scroll') return parent
  }
  return null
}

function observerFor(root: Element | null) {
  let entry = observers.get(root)
  if (!entry) {
    const listeners = new Map<Element, Listener>()
    const observer = new IntersectionObserver(
      (changes) => {
        for (const change of changes) listeners.get(change.target)?.(change.isIntersecting)
      },
      { root, rootMargin: MARGIN },
    )
    entry = { observer, listeners }
    observers.set(root, entry)
  }
  return entry
}

/** True without an IntersectionObserver (an old browser, a test without layout): render everything. */
export const canWindow = () => typeof IntersectionObserver === 'function'

/** Svelte action: calls `onchange` whenever `node` comes near the screen or leaves it. */
export function onScreen(node: Element, onchange: Listener) {
  if (!canWindow()) return
  const root = scroller(node)
  const entry = observerFor(root)
  entry.listeners.set(node, (shown) => onchange(shown))
  entry.observer.observe(node)
  return {
    destroy() {
      entry.observer.unobserve(node)
      entry.listeners.delete(node)
      if (entry.listeners.size === 0) {
        entry.observer.disconnect()
        observers.delete(root)
      }
    },
  }
}
