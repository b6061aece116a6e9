import path from 'node:path'
import type { Logger } from 'pino'
import { readAgentSettings, systemTomlPath } from '../agent-settings'
import type { Operation } from '../operation-store'
import { SoftwareManager } from '../software'
import type { BuiltinOperation } from './builtin'
import { configurationOperations } from './configuration'
import { deviceProfileOperation } from './device-profile'
import { logUploadOperation } from './log-upload'
import { readBootId, restartOperation } from './restart'
import { softwareOperations } from './software'

export interface BuiltinOptions {
  dataDir: string
  bootIdFile: string
  restartTimeoutMs: number
  publishTwin: (entity: string, key: string, value: unknown) => Promise<void>
  /** Where a command's file goes when its requester named no `tedgeUrl`. */
  fileUrl: (operation: Operation) => string
  /** Environment of sm-plugins (they find the data dir in it). */
  env: () => NodeJS.ProcessEnv
  logger: Logger
}

/** The operations EdgeTwin's agent implements for the main device. */
export function createBuiltins(options: BuiltinOptions): BuiltinOperation[] {
  return [
    restartOperation({
      rebootCommand: () => rebootCommand(options.dataDir, options.logger),
      bootId: () => readBootId(options.bootIdFile),
      timeoutMs: options.restartTimeoutMs,
    }),
    deviceProfileOperation({ publishTwin: options.publishTwin }),
    ...softwareOperations({
      manager: new SoftwareManager({
        pluginDir: path.join(options.dataDir, 'sm-plugins'),
        env: options.env(),
      }),
      downloadsDir: path.join(options.dataDir, 'downloads'),
      downloadLimit: () => ({
        maxBytes: readAgentSettings(options.dataDir, options.logger).maxDownloadBytes,
        limitSetting: `max_download_size in ${systemTomlPath(options.dataDir)}`,
      }),
    }),
    ...configurationOperations({ dataDir: options.dataDir, fileUrl: options.fileUrl }),
    logUploadOperation({ dataDir: options.dataDir, fileUrl: options.fileUrl }),
  ]
}

/**
 * `[system] reboot = ["…"]` from `<data-dir>/system.toml`, as in thin-edge.io's system.toml. There
 * is no default: EdgeTwin often runs on a technician's laptop, which a click must not reboot, so
 * the main device offers `restart` only once its restart command is configured.
 */
function rebootCommand(dataDir: string, logger: Logger): string[] | undefined {
  return readAgentSettings(dataDir, logger).reboot
}
