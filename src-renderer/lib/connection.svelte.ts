// Whether the core answers, for the whole page: the live stream's state (set by the Twin) decides.
// Commands read it to grey themselves out while the core is away, as an HMI does when it loses
// communication, instead of failing only once pressed.
import type { Attachment } from 'svelte/attachments'

/** What a command says while it cannot be sent. */
export const NOT_CONNECTED = 'EdgeTwin is not connected'

class Link {
  /** False while the live stream to the core is down (before it first opens it counts as up). */
  online = $state(true)
  /** Bumped each time the core answers again after an outage, for what waits to retry. */
  returns = $state(0)
  /** Bumped when a greyed-out command is pressed anyway: a touch screen shows no tooltip, so say why. */
  refused = $state(0)

  set(online: boolean): void {
    if (online && !this.online) this.returns++
    this.online = online
  }
}

export const link = new Link()

/**
 * `{@attach command}` on a button that sends something to the core: while the core is away it is
 * marked disabled (aria-disabled, so it stays focusable and its reason can be read), says why, and
 * swallows clicks before its own handler or its form's submit sees them.
 */
export const command: Attachment<HTMLElement> = (node) => {
  if (link.online) return
  const title = node.getAttribute('title')
  const block = (event: Event) => {
    event.preventDefault()
    event.stopImmediatePropagation()
    link.refused++
  }
  node.setAttribute('aria-disabled', 'true')
  node.setAttribute('title', NOT_CONNECTED)
  node.dataset.offline = ''
  node.addEventListener('click', block, { capture: true })
  return () => {
    node.removeAttribute('aria-disabled')
    if (title === null) node.removeAttribute('title')
    else node.setAttribute('title', title)
    delete node.dataset.offline
    node.removeEventListener('click', block, { capture: true })
  }
}
