export { collectLog, expandGlob, LogFileNotFoundError, type LogRequest } from './collect-log'
export {
  defaultLogPluginToml,
  ensureLogPluginFile,
  LOG_PLUGIN_FILE,
  type LogFileEntry,
  type LogPluginConfig,
  loadLogPlugin,
  logEntriesFor,
  logPluginFilePath,
  logTypes,
  parseLogPluginToml,
} from './log-plugin-config'
