import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { createIfMissing } from '../create-if-missing'

// thin-edge.io's tedge-log-plugin.toml: which files log_upload serves for each log type
// (plugins/tedge_file_log_plugin/src/config.rs, docs references/agent/tedge-log-management.md).

export const LOG_PLUGIN_FILE = 'tedge-log-plugin.toml'

export interface LogFileEntry {
  type: string
  /** A file, or a glob (`*`, `?`) matching several, e.g. rotated logs. */
  path: string
}

export interface LogPluginConfig {
  /** In file order; several entries may share a type, their files are served together. */
  files: LogFileEntry[]
  /** One line per entry or setting that was skipped, and why. */
  warnings: string[]
}

export function logPluginFilePath(dataDir: string): string {
  return path.join(dataDir, 'plugins', LOG_PLUGIN_FILE)
}

/**
 * The file EdgeTwin writes when there is none (as tedge-agent does at start, tedge_log_manager
 * lib.rs): EdgeTwin's own log, the workflow logs (`workflow-<operation>-<cmd_id>.log`), and
 * thin-edge.io's one default type, `software-management`, for the software operations' logs.
 */
export function defaultLogPluginToml(dataDir: string): string {
  const logs = path.join(dataDir, 'logs')
  const entry = (type: string, file: string) => [
    '[[files]]',
    `type = ${JSON.stringify(type)}`,
    `path = ${JSON.stringify(path.join(logs, file))}`,
    '',
  ]
  return [
    '# Log files that log_upload serves, by type (thin-edge.io format). A path may use * and ? in any',
    "# segment; the files a * matches are served only if modified at or after the request's dateFrom.",
    '',
    ...entry('edgetwin', 'edgetwin.log'),
    ...entry('workflow', 'workflow-*.log'),
    ...entry('software-management', 'workflow-software_*'),
  ].join('\n')
}

/** Writes the default file unless there is one (never replacing it); true when it wrote it. */
export function ensureLogPluginFile(dataDir: string): Promise<boolean> {
  return createIfMissing(logPluginFilePath(dataDir), defaultLogPluginToml(dataDir))
}

/** Reads the plugin file; missing or unreadable means no log types, with a warning (config.rs `read_config`). */
export async function loadLogPlugin(pluginFile: string): Promise<LogPluginConfig> {
  let text: string
  try {
    text = await readFile(pluginFile, 'utf8')
  } catch {
    return { files: [], warnings: [`The config file ${pluginFile} does not exist or is not readable.`] }
  }
  return parseLogPluginToml(text, pluginFile)
}

/**
 * Parses the plugin file's content. thin-edge.io ignores the whole file when one entry is wrong;
 * this skips only that entry, with a warning, so one typo does not hide every other log.
 */
export function parseLogPluginToml(text: string, pluginFile = LOG_PLUGIN_FILE): LogPluginConfig {
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch (error) {
    return { files: [], warnings: [`The config file ${pluginFile} is malformed: ${tomlErrorMessage(error)}`] }
  }
  const warnings: string[] = []
  for (const key of Object.keys(doc)) {
    // `plugins` holds the log plugins' include/exclude filters (tedge_log_manager config.rs): not ours to read.
    if (key !== 'files' && key !== 'plugins') warnings.push(`Ignoring unknown setting '${key}'`)
  }
  if (doc.files === undefined) return { files: [], warnings }
  if (!Array.isArray(doc.files))
    return { files: [], warnings: [...warnings, "'files' must be an array of tables"] }
  const files: LogFileEntry[] = []
  doc.files.forEach((raw: unknown, i: number) => {
    const problem = entryProblem(raw)
    if (problem) {
      warnings.push(`Skipping files[${i}]: ${problem}`)
      return
    }
    const item = raw as { type: string; path: string }
    files.push({ type: item.type, path: item.path })
  })
  return { files, warnings }
}

/** The log types, each once, in file order (the log_upload capability's `types`). */
export function logTypes(config: LogPluginConfig): string[] {
  return [...new Set(config.files.map((f) => f.type))]
}

export function logEntriesFor(config: LogPluginConfig, type: string): LogFileEntry[] {
  return config.files.filter((f) => f.type === type)
}

function entryProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'an entry must be a table'
  const item = raw as Record<string, unknown>
  const unknown = Object.keys(item).filter((k) => k !== 'type' && k !== 'path')
  if (unknown.length > 0) return `unknown field ${unknown.map((k) => `'${k}'`).join(', ')}`
  // Unlike config files, a log entry has no default type (config.rs `FileEntry`: both fields required).
  if (typeof item.type !== 'string' || item.type === '') return "'type' must be a non-empty string"
  if (typeof item.path !== 'string' || item.path === '') return "'path' must be a non-empty string"
  return undefined
}

function tomlErrorMessage(error: unknown): string {
  if (error instanceof TomlError) {
    const first = error.message.split('\n').find((l) => l.trim() !== '') ?? error.message
    return `${first.replace(/^Invalid TOML document: /, '')} (line ${error.line}, column ${error.column})`
  }
  return (error as Error).message
}
