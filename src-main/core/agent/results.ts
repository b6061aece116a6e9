import { readFileSync, statSync } from 'node:fs'
import type { ConfigVersionStore } from './config-versions'
import { localFile } from './file-transfer'
import type { Operation } from './operation-store'
import type { SoftwareInventory } from './software-inventory'

/**
 * What a successful command reported, kept for the twin: a software list, or a configuration file's
 * content (read from the file its `tedgeUrl` names) as a new version, unless it is larger than
 * `maxConfigBytes` (any device may report success with any file).
 */
export function keepResults(
  operation: Operation,
  deps: {
    configs: ConfigVersionStore
    software: SoftwareInventory
    dataDir: string
    time: number
    maxConfigBytes: number
  },
): void {
  const { payload, entity } = operation
  switch (operation.operation) {
    case 'software_list':
      deps.software.set(entity, payload.currentSoftwareList, deps.time)
      return
    case 'config_snapshot':
    case 'config_update': {
      const file = localFile(deps.dataDir, payload.tedgeUrl)
      if (!file || typeof payload.type !== 'string') return
      let content: Buffer
      try {
        if (statSync(file).size > deps.maxConfigBytes) return
        content = readFileSync(file)
      } catch {
        return
      }
      const restore = operation.agentState.restoreOf !== undefined
      deps.configs.record({
        entity,
        type: payload.type,
        content,
        source: operation.operation === 'config_snapshot' ? 'snapshot' : restore ? 'restore' : 'update',
        operationId: operation.id,
        actor: operation.requestedBy,
        path: typeof payload.path === 'string' ? payload.path : null,
        time: deps.time,
      })
    }
  }
}
