import { constants } from 'node:fs'
import { access, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { SmPlugin, type SmPluginOptions } from './plugin'
import type { SoftwareCallContext } from './types'

// The plugins of an sm-plugins directory (thin-edge.io plugin_sm/src/plugin_manager.rs `ExternalPlugins`).

export interface DiscoverOptions extends SmPluginOptions {
  /** thin-edge.io's `software.plugin.default`: the plugin for modules of type `default` (or none). */
  defaultType?: string
}

export interface RejectedPlugin {
  path: string
  reason: string
}

/** thin-edge.io's type for modules without an explicit one (tedge_api software.rs `DEFAULT`). */
export const DEFAULT_SOFTWARE_TYPE = 'default'

export class SmPluginSet {
  constructor(
    /** Sorted by type: plugins are invoked in the alphanumerical order of their names. */
    readonly plugins: readonly SmPlugin[],
    /** Files that are not plugins, and why. */
    readonly rejected: readonly RejectedPlugin[] = [],
    readonly defaultType?: string,
  ) {}

  types(): string[] {
    return this.plugins.map((p) => p.type)
  }

  /** The configured default plugin or, when there is exactly one plugin, that one. */
  default(): SmPlugin | undefined {
    if (this.defaultType !== undefined) return this.plugins.find((p) => p.type === this.defaultType)
    return this.plugins.length === 1 ? this.plugins[0] : undefined
  }

  /** The plugin for a module type; `default` and an empty type go to the default plugin. */
  get(type: string): SmPlugin | undefined {
    if (type === '' || type === DEFAULT_SOFTWARE_TYPE) return this.default()
    return this.plugins.find((p) => p.type === type)
  }

  /** Problems worth a warning in the agent's log. */
  warnings(): string[] {
    const warnings = this.rejected.map((r) => `Skipping ${r.path}: ${r.reason}`)
    if (this.defaultType !== undefined && !this.default()) {
      warnings.push(`The configured default plugin: ${this.defaultType} not found`)
    }
    return warnings
  }
}

/**
 * Reads a plugin directory: every executable file (or link to one) is a candidate named after its
 * file name, and is a plugin only if its `list` command succeeds (software-management-plugin-api.md
 * "Plugin repository"). A missing directory means no plugins, as in thin-edge.io.
 */
export async function discoverPlugins(
  dir: string,
  options: DiscoverOptions = {},
  ctx: SoftwareCallContext = {},
): Promise<SmPluginSet> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    const reason = `cannot read the plugin directory: ${(error as NodeJS.ErrnoException).code ?? error}`
    return new SmPluginSet([], [{ path: dir, reason }], options.defaultType)
  }
  const checked = await Promise.all(
    names.sort().map(async (name) => {
      const file = path.join(dir, name)
      const info = await stat(file).catch(() => undefined)
      if (!info?.isFile()) return undefined
      try {
        await access(file, constants.X_OK)
      } catch {
        return { rejected: { path: file, reason: 'not executable' } }
      }
      const plugin = new SmPlugin(name, file, options)
      const listed = await plugin.list(ctx)
      if ('error' in listed) {
        // plugin_manager.rs `load`: "does not support list operation and may not be a valid plugin".
        const reason = `does not support list operation and may not be a valid plugin: ${listed.error}`
        return { rejected: { path: file, reason } }
      }
      return { plugin }
    }),
  )
  const plugins: SmPlugin[] = []
  const rejected: RejectedPlugin[] = []
  for (const c of checked) {
    if (c?.plugin) plugins.push(c.plugin)
    if (c?.rejected) rejected.push(c.rejected)
  }
  return new SmPluginSet(plugins, rejected, options.defaultType)
}
