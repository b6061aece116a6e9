export {
  abortError,
  DEFAULT_PLUGIN_TIMEOUT_MS,
  type PluginModuleArgs,
  type PluginOutcome,
  parseModuleList,
  SmPlugin,
  type SmPluginOptions,
  type UpdateLine,
} from './plugin'
export { type PluginCallResult, type PluginExit, runPluginProcess } from './plugin-process'
export {
  DEFAULT_SOFTWARE_TYPE,
  type DiscoverOptions,
  discoverPlugins,
  type RejectedPlugin,
  SmPluginSet,
} from './plugin-set'
export { listSoftware, SoftwareManager, updateSoftware } from './software-manager'
export * from './types'
