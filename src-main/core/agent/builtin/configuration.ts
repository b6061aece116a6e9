import path from 'node:path'
import {
  configPluginFilePath,
  configTypes,
  deployConfigFile,
  findConfigEntry,
  loadConfigPlugin,
  readConfigFile,
} from '../config'
import type { Operation } from '../operation-store'
import { type BuiltinOperation, OperationFailure, standardWorkflow } from './builtin'

export interface ConfigurationOptions {
  dataDir: string
  /** The `tedgeUrl` EdgeTwin gives a command whose requester named none. */
  fileUrl: (operation: Operation) => string
}

/**
 * `config_snapshot` and `config_update` for the files declared in
 * `<data-dir>/plugins/tedge-configuration-plugin.toml` (type, path, owner, mode).
 */
export function configurationOperations(options: ConfigurationOptions): BuiltinOperation[] {
  const pluginFile = configPluginFilePath(options.dataDir)
  const entryFor = async (operation: Operation) => {
    const type = operation.payload.type
    if (typeof type !== 'string' || !type)
      throw new OperationFailure('The command has no configuration "type"')
    try {
      return findConfigEntry(await loadConfigPlugin(pluginFile), type)
    } catch (err) {
      throw new OperationFailure((err as Error).message)
    }
  }
  const types = async () => ({ types: configTypes(await loadConfigPlugin(pluginFile)) })
  return [
    {
      name: 'config_snapshot',
      workflow: standardWorkflow('config_snapshot'),
      capability: types,
      async run({ operation, signal, log }) {
        const entry = await entryFor(operation)
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
        const entry = await entryFor(operation)
        // Reference §3.2: the agent takes the file from tedgeUrl (its own file transfer), else remoteUrl.
        const url = [operation.payload.tedgeUrl, operation.payload.remoteUrl].find(
          (u) => typeof u === 'string' && u,
        )
        if (typeof url !== 'string')
          throw new OperationFailure('The command has neither tedgeUrl nor remoteUrl')
        log(`download ${url}`)
        const response = await fetch(url, { signal }).catch((err) => {
          throw new OperationFailure(`Download from ${url} failed: ${(err as Error).message}`)
        })
        if (!response.ok) throw new OperationFailure(`Download from ${url} failed: HTTP ${response.status}`)
        const content = Buffer.from(await response.arrayBuffer())
        const workDir = path.join(options.dataDir, 'downloads', `config-${operation.id}`)
        log(`write ${content.length} bytes to ${entry.path}`)
        await deployConfigFile(entry, { content }, { workDir }).catch((err) => {
          throw new OperationFailure(`Cannot write ${entry.path}: ${(err as Error).message}`)
        })
        return { path: entry.path }
      },
    },
  ]
}
