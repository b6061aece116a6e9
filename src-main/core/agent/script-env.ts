import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The checkout or package folder: the first parent of this module holding resources/bin. */
function packageRoot(): string | undefined {
  // The desktop shell bundles the core as CommonJS, where import.meta.url does not exist.
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)
  let dir = path.dirname(here)
  for (;;) {
    if (existsSync(path.join(dir, 'resources', 'bin', 'tedge'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

const root = packageRoot()

/** A shipped file under resources/ (sm-plugins, sample workflows), if this install has it. */
export function shippedResource(...segments: string[]): string | undefined {
  return root && path.join(root, 'resources', ...segments)
}

/**
 * What workflow scripts and plugins find in their environment: this core's broker and API, the data
 * dir, and a `tedge` on the PATH whose `tedge mqtt pub` publishes to this core's broker.
 */
export function scriptEnvironment(fields: {
  dataDir: string
  mqttUrl: string
  httpUrl: string
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EDGETWIN_DATA_DIR: fields.dataDir,
    EDGETWIN_MQTT_URL: fields.mqttUrl,
    EDGETWIN_HTTP_URL: fields.httpUrl,
  }
  if (root) {
    env.PATH = `${path.join(root, 'resources', 'bin')}${path.delimiter}${process.env.PATH ?? ''}`
    env.EDGETWIN_CLI = path.join(root, 'dist', 'cli.js')
    env.EDGETWIN_NODE = process.execPath
  }
  return env
}
