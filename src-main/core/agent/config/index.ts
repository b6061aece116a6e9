export {
  ConfigFileError,
  type ConfigSource,
  deployConfigFile,
  readConfigFile,
  rollbackConfigFile,
} from './config-files'
export {
  CONFIG_PLUGIN_FILE,
  CONFIG_PLUGIN_TYPE,
  type ConfigFileEntry,
  type ConfigPluginConfig,
  configPluginFilePath,
  configTypes,
  defaultConfigPluginToml,
  ensureConfigPluginFile,
  findConfigEntry,
  loadConfigPlugin,
  parseConfigPluginToml,
  UnknownConfigTypeError,
} from './plugin-config'
