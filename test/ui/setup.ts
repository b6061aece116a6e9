import '@testing-library/jest-dom/vitest'
// Unmounts what each test rendered (vitest runs without globals, so it must be asked for).
import '@testing-library/svelte/vitest'

// jsdom has <dialog> but not its modal methods; ConfirmDialog needs them.
if (!HTMLDialogElement.prototype.showModal) {
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.open = true
  }
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    this.open = false
    this.dispatchEvent(new Event('close'))
  }
}

// jsdom has no layout, so nothing ever resizes; Svelte's bind:clientHeight still needs the class.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
}
