import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { parse } from 'smol-toml'
import { parseSize } from '../config/size'

// `<data-dir>/system.toml`: thin-edge.io's file for the system's own commands (`[system] reboot`),
// and EdgeTwin's agent policy under `[agent]`. It is read at each command, so an edit applies to the
// next one without a restart. It lives beside the data dir's state, out of reach of config_update
// unless `allow_agent_file_update` says otherwise, so a command can never widen its own policy.

export const SYSTEM_TOML = 'system.toml'

/**
 * Modules and firmware images are the large downloads: 4 GiB holds a full A/B root file system
 * image, and still stops a runaway or hostile URL long before it fills a gateway's disk.
 */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3

/**
 * Configuration files are small, and every version of one is kept in the database (the UI shows
 * and restores them): 16 MiB is far above any configuration file and bounds what a version costs.
 */
export const DEFAULT_MAX_CONFIG_BYTES = 16 * 1024 ** 2

export interface AgentSettings {
  /** `[system] reboot`: the main device's restart command, if configured. */
  reboot?: string[]
  /**
   * Directories whose files config_snapshot, config_update and log_upload may use, besides the
   * data dir (`[agent] managed_roots`), as absolute paths.
   */
  managedRoots: string[]
  /** config_update may replace the agent's own files (`[agent] allow_agent_file_update`). */
  allowAgentFileUpdate: boolean
  /** Largest module, firmware or workflow download, in bytes (`[agent] max_download_size`). */
  maxDownloadBytes: number
  /** Largest configuration file read or written, in bytes (`[agent] max_config_size`). */
  maxConfigBytes: number
}

const DEFAULTS: AgentSettings = {
  managedRoots: [],
  allowAgentFileUpdate: false,
  maxDownloadBytes: DEFAULT_MAX_DOWNLOAD_BYTES,
  maxConfigBytes: DEFAULT_MAX_CONFIG_BYTES,
}

const AGENT_KEYS = new Set([
  'managed_roots',
  'allow_agent_file_update',
  'max_download_size',
  'max_config_size',
])

export function systemTomlPath(dataDir: string): string {
  return path.join(dataDir, SYSTEM_TOML)
}

/**
 * The settings in `<data-dir>/system.toml`; a missing file means the defaults. A setting that cannot
 * be used is logged and keeps its default (the safe one: no extra roots, agent files protected).
 */
export function readAgentSettings(dataDir: string, logger?: Logger): AgentSettings {
  const file = systemTomlPath(dataDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { ...DEFAULTS }
  }
  const { settings, warnings } = parseAgentSettings(text)
  for (const warning of warnings) logger?.warn({ file }, warning)
  return settings
}

/** The settings of a system.toml text, and one warning per setting that was ignored. */
export function parseAgentSettings(text: string): { settings: AgentSettings; warnings: string[] } {
  const settings: AgentSettings = { ...DEFAULTS, managedRoots: [] }
  const warnings: string[] = []
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch (error) {
    return { settings, warnings: [`${SYSTEM_TOML} is not valid TOML: ${(error as Error).message}`] }
  }
  const reboot = (doc.system as { reboot?: unknown } | undefined)?.reboot
  if (Array.isArray(reboot) && reboot.length > 0 && reboot.every((a) => typeof a === 'string')) {
    settings.reboot = reboot
  } else if (reboot !== undefined) {
    warnings.push('system.reboot must be a non-empty list of strings')
  }
  const agent = doc.agent
  if (agent === undefined) return { settings, warnings }
  if (typeof agent !== 'object' || agent === null || Array.isArray(agent)) {
    return { settings, warnings: [...warnings, '[agent] must be a table'] }
  }
  const table = agent as Record<string, unknown>
  for (const key of Object.keys(table)) {
    if (!AGENT_KEYS.has(key)) warnings.push(`agent.${key} is not a setting; ignored`)
  }
  const roots = table.managed_roots
  if (roots !== undefined) {
    if (Array.isArray(roots) && roots.every((r) => typeof r === 'string' && path.isAbsolute(r))) {
      settings.managedRoots = roots.map((r) => path.resolve(r))
    } else {
      warnings.push('agent.managed_roots must be a list of absolute paths; ignored')
    }
  }
  const allow = table.allow_agent_file_update
  if (allow !== undefined) {
    if (typeof allow === 'boolean') settings.allowAgentFileUpdate = allow
    else warnings.push('agent.allow_agent_file_update must be true or false; ignored')
  }
  for (const [key, field] of [
    ['max_download_size', 'maxDownloadBytes'],
    ['max_config_size', 'maxConfigBytes'],
  ] as const) {
    if (table[key] === undefined) continue
    const bytes = parseSize(table[key])
    if (bytes === undefined)
      warnings.push(`agent.${key} must be a size such as 4294967296 or "4 GiB"; ignored`)
    else settings[field] = bytes
  }
  return { settings, warnings }
}
