import { rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { formatSize } from '../../config/size'
import { readAgentSettings, systemTomlPath } from '../agent-settings'
import {
  type ConfigFileEntry,
  configPluginFilePath,
  configTypes,
  deployConfigFile,
  findConfigEntry,
  loadConfigPlugin,
  readConfigFile,
} from '../config'
import { DownloadError, downloadToFile } from '../download'
import { type Access, managedPaths } from '../managed-paths'
import type { Operation } from '../operation-store'
import { type BuiltinOperation, OperationFailure, standardWorkflow } from './builtin'

export interface ConfigurationOptions {
  dataDir: string
  /** The `tedgeUrl` EdgeTwin gives a command whose requester named none. */
  fileUrl: (operation: Operation) => string
}

/**
 * `config_snapshot` and `config_update` for the files declared in
 * `<data-dir>/plugins/tedge-configuration-plugin.toml` (type, path, owner, mode), within the
 * managed paths system.toml allows (managed-paths.ts).
 */
export function configurationOperations(options: ConfigurationOptions): BuiltinOperation[] {
  const pluginFile = configPluginFilePath(options.dataDir)
  const settings = () => readAgentSettings(options.dataDir)
  const limitSetting = `max_config_size in ${systemTomlPath(options.dataDir)}`
  /** The entry of the command's type, once its path passed the policy for this access. */
  const entryFor = async (operation: Operation, access: Access) => {
    const type = operation.payload.type
    if (typeof type !== 'string' || !type)
      throw new OperationFailure('The command has no configuration "type"')
    let entry: ConfigFileEntry
    try {
      entry = findConfigEntry(await loadConfigPlugin(pluginFile), type)
    } catch (err) {
      throw new OperationFailure((err as Error).message)
    }
    const problem = await managedPaths(options.dataDir, settings()).problem(entry.path, access)
    if (problem) throw new OperationFailure(problem)
    return entry
  }
  const types = async () => ({ types: configTypes(await loadConfigPlugin(pluginFile)) })
  return [
    {
      name: 'config_snapshot',
      workflow: standardWorkflow('config_snapshot'),
      capability: types,
      async run({ operation, signal, log }) {
        const entry = await entryFor(operation, 'read')
        const maxBytes = settings().maxConfigBytes
        const size = await stat(entry.path).then(
          (s) => s.size,
          () => 0,
        )
        if (size > maxBytes) {
          throw new OperationFailure(
            `${entry.path} is larger than the limit of ${formatSize(maxBytes)} (${limitSetting})`,
          )
        }
        const content = await readConfigFile(entry).catch((err) => {
          throw new OperationFailure((err as Error).message)
        })
        const url =
          typeof operation.payload.tedgeUrl === 'string'
            ? operation.payload.tedgeUrl
            : options.fileUrl(operation)
        log(`upload ${entry.path} (${content.length} bytes) → ${url}`)
        const response = await fetch(url, { method: 'PUT', body: content, signal })
        if (!response.ok) throw new OperationFailure(`Upload to ${url} failed: HTTP ${response.status}`)
        return { tedgeUrl: url, path: entry.path }
      },
    },
    {
      name: 'config_update',
      workflow: standardWorkflow('config_update'),
      capability: types,
      async run({ operation, signal, log }) {
        const entry = await entryFor(operation, 'write')
        // Reference §3.2: the agent takes the file from tedgeUrl (its own file transfer), else remoteUrl.
        const url = [operation.payload.tedgeUrl, operation.payload.remoteUrl].find(
          (u) => typeof u === 'string' && u,
        )
        if (typeof url !== 'string')
          throw new OperationFailure('The command has neither tedgeUrl nor remoteUrl')
        const workDir = path.join(options.dataDir, 'downloads', `config-${operation.id}`)
        const downloaded = path.join(workDir, 'new')
        try {
          log(`download ${url}`)
          const bytes = await downloadToFile(url, downloaded, {
            maxBytes: settings().maxConfigBytes,
            limitSetting,
            signal,
          }).catch((err) => {
            if (err instanceof DownloadError)
              throw new OperationFailure(`Download from ${url} failed: ${err.message}`)
            throw err
          })
          log(`write ${bytes} bytes to ${entry.path}`)
          await deployConfigFile(entry, { fromFile: downloaded }, { workDir }).catch((err) => {
            throw new OperationFailure(`Cannot write ${entry.path}: ${(err as Error).message}`)
          })
        } finally {
          await rm(downloaded, { force: true })
        }
        return { path: entry.path }
      },
    },
  ]
}
