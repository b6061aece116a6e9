import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { ensureConfigPluginFile } from './config'
import { ensureLogPluginFile } from './logs'
import { shippedResource } from './script-env'

/**
 * What a new data dir starts with, as a thin-edge.io package installs into /etc/tedge: the shipped
 * sm-plugins (only when sm-plugins/ is created, so a plugin the user removed stays removed) and the
 * configuration and log plugin files (only when missing).
 */
export async function installDefaults(dataDir: string): Promise<void> {
  const plugins = path.join(dataDir, 'sm-plugins')
  const shipped = shippedResource('sm-plugins')
  if (!existsSync(plugins)) {
    mkdirSync(plugins, { recursive: true })
    for (const name of shipped && existsSync(shipped) ? readdirSync(shipped) : []) {
      const target = path.join(plugins, name)
      copyFileSync(path.join(shipped as string, name), target)
      chmodSync(target, 0o755)
    }
  }
  await ensureConfigPluginFile(dataDir)
  await ensureLogPluginFile(dataDir)
}
