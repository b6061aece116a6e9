import { rm } from 'node:fs/promises'
import path from 'node:path'
import { downloadToFile } from '../download'
import { parseUpdateList, type SoftwareManager } from '../software'
import { markProcessGroup } from '../workflow/script'
import { type BuiltinOperation, OperationFailure, standardWorkflow } from './builtin'

/**
 * `software_list` and `software_update` through the sm-plugins in `<data-dir>/sm-plugins`
 * (reference §4). The capability lists the plugins' types; without a plugin there is none.
 */
export function softwareOperations(options: {
  manager: SoftwareManager
  downloadsDir: string
  /** The largest module download, in bytes, and the setting that says so (for the reason). */
  downloadLimit: () => { maxBytes: number; limitSetting: string }
}): BuiltinOperation[] {
  const { manager } = options
  const types = async () => {
    const found = (await manager.load()).types()
    return found.length ? { types: found } : undefined
  }
  return [
    {
      name: 'software_list',
      workflow: standardWorkflow('software_list'),
      capability: types,
      async run({ signal, log }) {
        const result = await manager.list({ signal, log })
        if (result.status === 'failed') throw new OperationFailure(result.reason ?? 'software list failed')
        return { currentSoftwareList: result.currentSoftwareList }
      },
    },
    {
      name: 'software_update',
      workflow: standardWorkflow('software_update'),
      capability: types,
      async run({ operation, signal, log, note }) {
        let updateList: ReturnType<typeof parseUpdateList>
        try {
          updateList = parseUpdateList(operation.payload.updateList)
        } catch (err) {
          throw new OperationFailure(`Invalid updateList: ${(err as Error).message}`)
        }
        const result = await manager.update(updateList, {
          signal,
          log,
          // Noted like a workflow script's: after a crash, the resumed command stops what is left of it.
          onSpawn: (pid) => note({ script: markProcessGroup(pid) }),
          download: async (url, module, downloadSignal) => {
            const dir = path.join(options.downloadsDir, `software-${operation.id}`)
            const file = path.join(dir, module.name.replace(/[^A-Za-z0-9._-]/g, '_'))
            const cleanup = () => rm(dir, { recursive: true, force: true })
            // Streamed to disk: a module of any size costs the core no more memory than a small one.
            await downloadToFile(url, file, { ...options.downloadLimit(), signal: downloadSignal }).catch(
              async (error) => {
                await cleanup()
                throw error
              },
            )
            return { path: file, cleanup }
          },
        })
        if (result.status === 'failed')
          throw new OperationFailure(result.reason, { failures: result.failures })
        return {}
      },
    },
  ]
}
