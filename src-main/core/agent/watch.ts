import { type FSWatcher, watch } from 'node:fs'
import type { Logger } from 'pino'

/** Edits arrive as several file events; one call after they settle. */
const SETTLE_MS = 100

/**
 * Calls `onChange` once the files of these folders stopped changing (workflows, plugins): how
 * thin-edge.io picks up a new workflow or sm-plugin without a restart. Returns the stop function.
 */
export function watchFolders(
  folders: Array<{ folder: string /** Only this file of the folder. */; only?: string }>,
  onChange: () => void,
  logger: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined
  const watchers: FSWatcher[] = []
  for (const { folder, only } of folders) {
    try {
      const watcher = watch(folder, (_event, file) => {
        if (only && file !== only) return
        clearTimeout(timer)
        timer = setTimeout(onChange, SETTLE_MS)
      })
      watcher.on('error', (err) => logger.warn({ err, folder }, 'watching a folder failed'))
      watchers.push(watcher)
    } catch (err) {
      logger.warn({ err, folder }, 'folder not watched; changes need a restart')
    }
  }
  return () => {
    clearTimeout(timer)
    for (const watcher of watchers) watcher.close()
  }
}
