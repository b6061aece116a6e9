import { readAgentSettings } from '../agent-settings'
import { collectLog, loadLogPlugin, logEntriesFor, logPluginFilePath, logTypes } from '../logs'
import { managedPaths } from '../managed-paths'
import type { Operation } from '../operation-store'
import { type BuiltinOperation, OperationFailure, standardWorkflow } from './builtin'

/** Default `lines` when a request names none (thin-edge.io's mappers send 1000). */
const DEFAULT_LINES = 1000

/**
 * `log_upload` of the files declared in `<data-dir>/plugins/tedge-log-plugin.toml` (reference §3.2),
 * within the managed paths system.toml allows (managed-paths.ts).
 */
export function logUploadOperation(options: {
  dataDir: string
  fileUrl: (operation: Operation) => string
}): BuiltinOperation {
  const pluginFile = logPluginFilePath(options.dataDir)
  return {
    name: 'log_upload',
    workflow: standardWorkflow('log_upload'),
    capability: async () => ({ types: logTypes(await loadLogPlugin(pluginFile)) }),
    async run({ operation, signal, log }) {
      const { type, dateFrom, dateTo, searchText, lines } = operation.payload
      if (typeof type !== 'string' || !type) throw new OperationFailure('The command has no log "type"')
      const from = time(dateFrom, 'dateFrom', 0)
      const to = time(dateTo, 'dateTo', Date.now())
      const entries = logEntriesFor(await loadLogPlugin(pluginFile), type)
      if (entries.length === 0)
        throw new OperationFailure(`The target log file for '${type}' does not exist.`)
      const paths = managedPaths(options.dataDir, readAgentSettings(options.dataDir))
      const content = await collectLog(entries, {
        check: (file) => paths.problem(file, 'read'),
        dateFrom: from,
        dateTo: to,
        searchText: typeof searchText === 'string' && searchText ? searchText : undefined,
        lines: typeof lines === 'number' && lines >= 0 ? Math.floor(lines) : DEFAULT_LINES,
      }).catch((err) => {
        throw new OperationFailure((err as Error).message)
      })
      const url =
        typeof operation.payload.tedgeUrl === 'string'
          ? operation.payload.tedgeUrl
          : options.fileUrl(operation)
      log(`upload ${Buffer.byteLength(content)} bytes of ${type} log → ${url}`)
      const response = await fetch(url, { method: 'PUT', body: content, signal })
      if (!response.ok) throw new OperationFailure(`Upload to ${url} failed: HTTP ${response.status}`)
      return { tedgeUrl: url }
    },
  }
}

function time(value: unknown, name: string, fallback: number): Date {
  if (value === undefined || value === null || value === '') return new Date(fallback)
  const date = new Date(typeof value === 'number' ? value : String(value))
  if (Number.isNaN(date.getTime())) throw new OperationFailure(`"${name}" is not a date: ${String(value)}`)
  return date
}
