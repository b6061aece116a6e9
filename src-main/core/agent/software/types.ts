// The software_list / software_update payload pieces (reference §3.2) and the sm-plugin contract's
// vocabulary (reference §4), as thin-edge.io's tedge_api/src/commands.rs serialises them.

export type ModuleAction = 'install' | 'remove'

/** One installed module, as a plugin's `list` reports it (`name<TAB>version`, version optional). */
export interface SoftwareModule {
  name: string
  version?: string
}

/** `currentSoftwareList` item: the modules one plugin reports. */
export interface SoftwareList {
  type: string
  modules: SoftwareModule[]
}

/** One requested change inside an `updateList` item. */
export interface ModuleUpdate {
  name: string
  version?: string
  /** Downloaded by the agent before the plugin is called, then passed as `--file`. */
  url?: string
  action: ModuleAction
}

/** `updateList` item: the changes for one software type, in the order they are applied. */
export interface UpdateListEntry {
  type: string
  modules: ModuleUpdate[]
}

export interface FailedModule {
  name: string
  version?: string
  url?: string
  action: ModuleAction
  reason: string
}

/** `failures` item of a failed software_update. */
export interface FailureList {
  type: string
  modules: FailedModule[]
}

export type SoftwareListResult =
  | { status: 'successful'; currentSoftwareList: SoftwareList[] }
  /** thin-edge.io still reports the lists of the plugins that answered (plugin_manager.rs `list`). */
  | { status: 'failed'; reason: string; currentSoftwareList: SoftwareList[] }

export type SoftwareUpdateResult =
  | { status: 'successful' }
  | { status: 'failed'; reason: string; failures: FailureList[] }

/** A file the `download` callback produced; `cleanup` runs once the plugin calls are over. */
export interface DownloadedFile {
  path: string
  cleanup?: () => Promise<void>
}

/**
 * Fetches a module's `url` to a local file. Returning a bare path leaves the file to its owner
 * (say, a file the file-transfer service already holds).
 */
export type Download = (
  url: string,
  module: { name: string; version?: string },
  signal?: AbortSignal,
) => Promise<string | DownloadedFile>

export interface SoftwareCallContext {
  signal?: AbortSignal
  /** Receives each line of the operation's log: command lines, exit status, stdout and stderr. */
  log?: (line: string) => void
  /** The operation's log file: thin-edge.io appends ", see device log file <path>" to a failure reason. */
  logPath?: string
  /** A plugin call started (its process group leader), so a crash can be cleaned up after. */
  onSpawn?: (pid: number) => void
}

export interface SoftwareUpdateContext extends SoftwareCallContext {
  download?: Download
}

/**
 * Validates an `updateList` taken from an MQTT payload. thin-edge.io normalises as it reads
 * (software.rs `normalize`): an empty `version` or `url` means none. A module without a known
 * `action` is skipped there (`updates_for`); here it is rejected, so the requester learns why.
 */
export function parseUpdateList(value: unknown): UpdateListEntry[] {
  if (!Array.isArray(value)) throw new Error('updateList must be an array')
  return value.map((entry, i) => {
    if (!isRecord(entry)) throw new Error(`updateList[${i}] must be an object`)
    const type = entry.type ?? ''
    if (typeof type !== 'string') throw new Error(`updateList[${i}].type must be a string`)
    if (!Array.isArray(entry.modules)) throw new Error(`updateList[${i}].modules must be an array`)
    const modules = entry.modules.map((m, j): ModuleUpdate => {
      const where = `updateList[${i}].modules[${j}]`
      if (!isRecord(m)) throw new Error(`${where} must be an object`)
      if (typeof m.name !== 'string' || m.name === '')
        throw new Error(`${where}.name must be a non-empty string`)
      if (m.action !== 'install' && m.action !== 'remove') {
        throw new Error(`${where}.action must be "install" or "remove"`)
      }
      const module: ModuleUpdate = { name: m.name, action: m.action }
      const version = optionalString(m.version, `${where}.version`)
      const url = optionalString(m.url, `${where}.url`)
      if (version) module.version = version
      if (url) module.url = url
      return module
    })
    return { type, modules }
  })
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new Error(`${where} must be a string`)
  return value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
