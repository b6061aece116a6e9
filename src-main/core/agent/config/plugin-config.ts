import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { createIfMissing } from '../create-if-missing'

// thin-edge.io's tedge-configuration-plugin.toml: the files config_snapshot and config_update manage
// (plugins/tedge_file_config_plugin/src/config.rs, docs references/agent/tedge-configuration-management.md).

/** The plugin file's own type: it is always managed, declared or not (config.rs `DEFAULT_PLUGIN_CONFIG_TYPE`). */
export const CONFIG_PLUGIN_TYPE = 'tedge-configuration-plugin'
export const CONFIG_PLUGIN_FILE = 'tedge-configuration-plugin.toml'

export interface ConfigFileEntry {
  /** Defaults to the path. */
  type: string
  path: string
  /** Owner, group and mode (e.g. 0o644) given to the file when config_update creates it. */
  user?: string
  group?: string
  mode?: number
  /** Same, for a parent directory config_update has to create; user and group default to the file's. */
  parentUser?: string
  parentGroup?: string
  parentMode?: number
  /** The service to act on once the file changed; thin-edge.io restarts it (the only action). */
  service?: string
  serviceAction?: 'restart'
}

export interface ConfigPluginConfig {
  /** The plugin file's own entry first, then the declared ones in file order. */
  files: ConfigFileEntry[]
  /** One line per entry or setting that was skipped, and why. */
  warnings: string[]
}

const ENTRY_KEYS = new Set([
  'path',
  'type',
  'user',
  'group',
  'mode',
  'parent_user',
  'parent_group',
  'parent_mode',
  'service',
  'service_action',
])

export function configPluginFilePath(dataDir: string): string {
  return path.join(dataDir, 'plugins', CONFIG_PLUGIN_FILE)
}

/**
 * The file EdgeTwin writes when there is none, as tedge-agent does at start (tedge_config_manager
 * lib.rs): the log plugin's file, like thin-edge.io's default. The plugin file itself needs no entry.
 */
export function defaultConfigPluginToml(dataDir: string): string {
  return [
    '# Configuration files that config_snapshot and config_update manage (thin-edge.io format):',
    '# path, type (defaults to the path), and for a file config_update creates: user, group, mode.',
    `# This file itself is always managed, as type "${CONFIG_PLUGIN_TYPE}".`,
    '',
    '[[files]]',
    `path = ${tomlString(path.join(dataDir, 'plugins', 'tedge-log-plugin.toml'))}`,
    'type = "tedge-log-plugin"',
    '',
  ].join('\n')
}

/** Writes the default plugin file unless there is one; true when it wrote it. */
export function ensureConfigPluginFile(dataDir: string): Promise<boolean> {
  return createIfMissing(configPluginFilePath(dataDir), defaultConfigPluginToml(dataDir))
}

/**
 * Reads the plugin file. A missing or unreadable file, like a malformed one, leaves only the
 * plugin file's own entry, with a warning (config.rs `read_config`).
 */
export async function loadConfigPlugin(pluginFile: string): Promise<ConfigPluginConfig> {
  let text: string
  try {
    text = await readFile(pluginFile, 'utf8')
  } catch {
    return {
      files: [{ type: CONFIG_PLUGIN_TYPE, path: pluginFile }],
      warnings: [`The config file ${pluginFile} does not exist or is not readable.`],
    }
  }
  return parseConfigPluginToml(text, pluginFile)
}

/**
 * Parses the plugin file's content. Where thin-edge.io drops every declared entry when one is
 * wrong (config.rs `add_entries_from_raw_config`), this skips only the wrong entry, with a warning:
 * one typo must not take all the other files out of configuration management.
 */
export function parseConfigPluginToml(text: string, pluginFile: string): ConfigPluginConfig {
  const own: ConfigFileEntry = { type: CONFIG_PLUGIN_TYPE, path: pluginFile }
  const files: ConfigFileEntry[] = [own]
  const warnings: string[] = []
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch (error) {
    return { files, warnings: [`The config file ${pluginFile} is malformed: ${tomlErrorMessage(error)}`] }
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'files') warnings.push(`Ignoring unknown setting '${key}'`)
  }
  if (doc.files === undefined) return { files, warnings }
  if (!Array.isArray(doc.files)) {
    return { files, warnings: [...warnings, "'files' must be an array of tables"] }
  }
  const byType = new Map<string, ConfigFileEntry>([[own.type, own]])
  doc.files.forEach((raw: unknown, i: number) => {
    const parsed = parseEntry(raw)
    if (typeof parsed === 'string') {
      warnings.push(`Skipping files[${i}]: ${parsed}`)
      return
    }
    const existing = byType.get(parsed.type)
    if (existing === own && path.resolve(parsed.path) === path.resolve(own.path)) {
      // Declaring the plugin file itself only adds its permissions (thin-edge.io would call it a duplicate).
      Object.assign(own, parsed, { path: own.path })
      return
    }
    if (existing) {
      warnings.push(`Skipping files[${i}]: The config file has the duplicated type '${parsed.type}'.`)
      return
    }
    byType.set(parsed.type, parsed)
    files.push(parsed)
  })
  return { files, warnings }
}

export function configTypes(config: ConfigPluginConfig): string[] {
  return config.files.map((f) => f.type)
}

export class UnknownConfigTypeError extends Error {
  constructor(readonly configType: string) {
    // The file plugin's wording (tedge_file_config_plugin error.rs `InvalidConfigType`).
    super(`The requested config_type ${configType} is not defined in the plugin configuration file.`)
  }
}

export function findConfigEntry(config: ConfigPluginConfig, type: string): ConfigFileEntry {
  const entry = config.files.find((f) => f.type === type)
  if (!entry) throw new UnknownConfigTypeError(type)
  return entry
}

/** One `files` item, or what is wrong with it. */
function parseEntry(raw: unknown): ConfigFileEntry | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'an entry must be a table'
  const item = raw as Record<string, unknown>
  const unknown = Object.keys(item).filter((k) => !ENTRY_KEYS.has(k))
  // config.rs denies unknown fields: a misspelt `mdoe` must not silently lose the mode.
  if (unknown.length > 0) return `unknown field ${unknown.map((k) => `'${k}'`).join(', ')}`
  if (typeof item.path !== 'string' || item.path === '') return "'path' must be a non-empty string"
  const entry: ConfigFileEntry = { path: item.path, type: item.path }
  for (const [key, field] of [
    ['type', 'type'],
    ['user', 'user'],
    ['group', 'group'],
    ['parent_user', 'parentUser'],
    ['parent_group', 'parentGroup'],
    ['service', 'service'],
  ] as const) {
    const value = item[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') return `'${key}' must be a non-empty string`
    entry[field] = value
  }
  for (const [key, field] of [
    ['mode', 'mode'],
    ['parent_mode', 'parentMode'],
  ] as const) {
    const value = item[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0o7777) {
      return `'${key}' must be an integer file mode such as 0o644`
    }
    entry[field] = value
  }
  // The type becomes part of MQTT messages and Cumulocity operations (config.rs forbids MQTT wildcards).
  if (/[+#]/.test(entry.type)) {
    return `The config type '${entry.type}' contains the forbidden characters, '+' or '#'.`
  }
  const action = item.service_action
  if (action !== undefined) {
    if (entry.service === undefined) {
      return `The service_action field requires a service field to be specified for config type '${entry.type}'.`
    }
    if (action !== 'restart') {
      return `The service_action '${String(action)}' is not supported. Valid actions are: restart`
    }
  }
  if (entry.service !== undefined) entry.serviceAction = 'restart'
  return entry
}

function tomlErrorMessage(error: unknown): string {
  if (error instanceof TomlError) {
    const first = error.message.split('\n').find((l) => l.trim() !== '') ?? error.message
    return `${first.replace(/^Invalid TOML document: /, '')} (line ${error.line}, column ${error.column})`
  }
  return (error as Error).message
}

/** A TOML basic string: JSON's escapes are a subset of TOML's. */
export function tomlString(value: string): string {
  return JSON.stringify(value)
}
