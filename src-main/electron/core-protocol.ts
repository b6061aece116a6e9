import type { Ready } from '../core/app'

/** How the Electron main process asks the core (in its utility process) to run. */
export interface CoreRunOptions {
  dataDir: string
  sim: boolean
  /** The built UI the core serves at `/`. */
  uiDir: string
}

/** Main process → core process. */
export type ToCore = { type: 'start'; options: CoreRunOptions } | { type: 'stop' }

/** Core process → main process. */
export type FromCore = { type: 'ready'; ready: Ready } | { type: 'failed'; message: string }

export function isFromCore(value: unknown): value is FromCore {
  if (typeof value !== 'object' || value === null) return false
  const message = value as { type?: unknown; ready?: unknown; message?: unknown }
  if (message.type === 'failed') return typeof message.message === 'string'
  if (message.type !== 'ready' || typeof message.ready !== 'object' || message.ready === null) return false
  const ready = message.ready as Record<string, unknown>
  return ['http', 'mqtt', 'token', 'login'].every((key) => typeof ready[key] === 'string')
}

export function isToCore(value: unknown): value is ToCore {
  if (typeof value !== 'object' || value === null) return false
  const message = value as { type?: unknown; options?: unknown }
  if (message.type === 'stop') return true
  if (message.type !== 'start' || typeof message.options !== 'object' || message.options === null)
    return false
  const options = message.options as Record<string, unknown>
  return (
    typeof options.dataDir === 'string' &&
    typeof options.sim === 'boolean' &&
    typeof options.uiDir === 'string'
  )
}

/** The core's start failure as a person reads it, with the fix where one is known. */
export function describeCoreFailure(message: string): string {
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/.test(message))
    return (
      `${message}\n\nbetter-sqlite3 is built for Node.js, not for Electron. From a checkout, run ` +
      '`npx electron-builder install-app-deps` (and `npm rebuild better-sqlite3` before running the tests again).'
    )
  return message
}
