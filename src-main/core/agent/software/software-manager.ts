import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { abortError, type SmPlugin, type UpdateLine } from './plugin'
import { type DiscoverOptions, discoverPlugins, type SmPluginSet } from './plugin-set'
import type {
  FailedModule,
  FailureList,
  ModuleUpdate,
  SoftwareCallContext,
  SoftwareList,
  SoftwareListResult,
  SoftwareUpdateContext,
  SoftwareUpdateResult,
  UpdateListEntry,
} from './types'

// software_list and software_update over a set of sm-plugins, with thin-edge.io's sequencing and
// failure report (plugin_sm/src/plugin_manager.rs `list`/`process`, plugin.rs `apply_all`).

/** What one software type's updates went wrong with: messages for the reason, modules for `failures`. */
interface TypeErrors {
  messages: string[]
  modules: FailedModule[]
}

/** `currentSoftwareList` from every plugin, in type order. */
export async function listSoftware(
  plugins: SmPluginSet,
  ctx: SoftwareCallContext = {},
): Promise<SoftwareListResult> {
  // With no plugin at all thin-edge.io still reports one empty list, of type "".
  if (plugins.plugins.length === 0) {
    return { status: 'successful', currentSoftwareList: [{ type: '', modules: [] }] }
  }
  const currentSoftwareList: SoftwareList[] = []
  const errors: string[] = []
  for (const plugin of plugins.plugins) {
    const listed = await plugin.list(ctx)
    if ('error' in listed) errors.push(`Plugin error for "${plugin.type}": ${listed.error}`)
    else currentSoftwareList.push({ type: plugin.type, modules: listed.modules })
  }
  if (errors.length === 0) return { status: 'successful', currentSoftwareList }
  return { status: 'failed', reason: failureReason(errors, ctx.logPath), currentSoftwareList }
}

/**
 * Applies an `updateList`, one software type after the other in request order. Per plugin:
 * `prepare` → download the modules that have a `url` → `update-list` (exit 1: `install`/`remove` per
 * module, in request order) → `finalize` → remove the downloads. A failed `prepare` cancels that
 * type's updates (no `finalize`); a failed download skips the updates but still finalizes.
 * Rejects only when `ctx.signal` aborts.
 */
export async function updateSoftware(
  plugins: SmPluginSet,
  updateList: readonly UpdateListEntry[],
  ctx: SoftwareUpdateContext = {},
): Promise<SoftwareUpdateResult> {
  const messages: string[] = []
  const failures: FailureList[] = []
  for (const [type, modules] of groupByType(updateList)) {
    const plugin = plugins.get(type)
    const errors = plugin ? await applyAll(plugin, modules, ctx) : unknownType(type, modules, ctx)
    if (errors.messages.length > 0) {
      // plugin_manager.rs `process`: one message per failing type, its errors joined.
      messages.push(errors.messages.join(', '))
      failures.push({ type, modules: errors.modules })
    }
  }
  if (messages.length === 0) return { status: 'successful' }
  return { status: 'failed', reason: failureReason(messages, ctx.logPath), failures }
}

/**
 * Keeps plugins between requests and looks at the directory before each update, as tedge-agent does;
 * the plugins are discovered again (each one's `list` run) only when the directory changed.
 */
export class SoftwareManager {
  private current: SmPluginSet | undefined
  private signature: string | undefined

  constructor(private readonly options: DiscoverOptions & { pluginDir: string }) {}

  /** The plugins; the software types for the capability payload are `types()` of the result. */
  async load(ctx: SoftwareCallContext = {}): Promise<SmPluginSet> {
    const signature = await folderSignature(this.options.pluginDir)
    if (this.current && signature === this.signature) return this.current
    this.current = await discoverPlugins(this.options.pluginDir, this.options, { signal: ctx.signal })
    this.signature = signature
    return this.current
  }

  async list(ctx: SoftwareCallContext = {}): Promise<SoftwareListResult> {
    return listSoftware(this.current ?? (await this.load(ctx)), ctx)
  }

  async update(
    updateList: readonly UpdateListEntry[],
    ctx: SoftwareUpdateContext = {},
  ): Promise<SoftwareUpdateResult> {
    return updateSoftware(await this.load(ctx), updateList, ctx)
  }
}

async function applyAll(
  plugin: SmPlugin,
  modules: ModuleUpdate[],
  ctx: SoftwareUpdateContext,
): Promise<TypeErrors> {
  const errors: TypeErrors = { messages: [], modules: [] }
  const type = `"${plugin.type}"`

  const prepared = await plugin.prepare(ctx)
  if (!prepared.ok) {
    errors.messages.push(`Failed to prepare updates for ${type}: ${prepared.reason}`)
    return errors
  }

  const files = new Map<ModuleUpdate, string>()
  const cleanups: Array<() => Promise<void>> = []
  try {
    // Downloads stop at the first failure, and then no module of this type is touched.
    const downloaded = await downloadAll(modules, ctx, files, cleanups)
    if (!downloaded.ok) {
      errors.messages.push(downloaded.message)
      errors.modules.push(downloaded.module)
    } else {
      await applyUpdates(plugin, modules, files, ctx, errors)
    }

    const finalized = await plugin.finalize(ctx)
    if (!finalized.ok) errors.messages.push(`Failed to finalize updates for ${type}: ${finalized.reason}`)
  } finally {
    for (const cleanup of cleanups) {
      await cleanup().catch((error) => ctx.log?.(`warn: ${(error as Error).message}`))
    }
  }
  return errors
}

async function applyUpdates(
  plugin: SmPlugin,
  modules: ModuleUpdate[],
  files: Map<ModuleUpdate, string>,
  ctx: SoftwareUpdateContext,
  errors: TypeErrors,
): Promise<void> {
  const lines: UpdateLine[] = modules.map((m) => ({ ...m, file: files.get(m) }))
  const batch = await plugin.updateList(lines, ctx)
  if (batch.ok) return
  if (!batch.notSupported) {
    errors.messages.push(`Failed to execute updates for "${plugin.type}": ${batch.reason}`)
    return
  }
  ctx.log?.(`The update-list command is not supported by this: ${plugin.type} plugin`)
  for (const [i, module] of modules.entries()) {
    const done = await plugin.apply(module.action, lines[i] ?? module, ctx)
    if (done.ok) continue
    const verb = module.action === 'install' ? 'install' : 'uninstall'
    errors.messages.push(`Failed to ${verb} ${describe(module)}: ${done.reason}`)
    errors.modules.push(failedModule(module, done.reason))
  }
}

type DownloadOutcome = { ok: true } | { ok: false; message: string; module: FailedModule }

async function downloadAll(
  modules: ModuleUpdate[],
  ctx: SoftwareUpdateContext,
  files: Map<ModuleUpdate, string>,
  cleanups: Array<() => Promise<void>>,
): Promise<DownloadOutcome> {
  // Only installs get a file: `remove NAME [--module-version V]` takes no --file.
  for (const module of modules) {
    if (module.action !== 'install' || module.url === undefined) continue
    ctx.log?.(`----- $ Downloading: ${module.url}`)
    try {
      if (!ctx.download) throw new Error('no downloader is available')
      const got = await ctx.download(module.url, { name: module.name, version: module.version }, ctx.signal)
      const file = typeof got === 'string' ? { path: got } : got
      if (file.cleanup) cleanups.push(file.cleanup)
      files.set(module, file.path)
      ctx.log?.(`Downloaded to ${file.path}`)
    } catch (error) {
      if (ctx.signal?.aborted) throw abortError(ctx.signal)
      const reason = `Download error: ${(error as Error).message} for "${module.url}"`
      ctx.log?.(`error: ${reason}`)
      // thin-edge.io names no module for a download error; naming it here tells which one failed.
      return { ok: false, message: reason, module: failedModule(module, reason) }
    }
  }
  return { ok: true }
}

function unknownType(type: string, modules: ModuleUpdate[], ctx: SoftwareCallContext): TypeErrors {
  // error.rs `UnknownSoftwareType` and its per-module reason (commands.rs `From<SoftwareError>`).
  const names = JSON.stringify(modules.map((m) => m.name))
  const message = `Unknown software type: "${type}". The affected packages are: ${names}`
  ctx.log?.(`ERROR: ${message}`)
  return {
    messages: [message],
    modules: modules.map((m) => failedModule(m, `Unknown software type: "${type}"`)),
  }
}

/** One list per type, in first-seen order (a type given twice is applied once, with all its modules). */
function groupByType(updateList: readonly UpdateListEntry[]): Map<string, ModuleUpdate[]> {
  const byType = new Map<string, ModuleUpdate[]>()
  for (const entry of updateList) {
    const modules = byType.get(entry.type) ?? []
    modules.push(...entry.modules)
    byType.set(entry.type, modules)
  }
  return byType
}

/**
 * plugin_manager.rs `error_message`: the one message, or "N errors" when several types failed,
 * then where the details are.
 */
function failureReason(messages: string[], logPath?: string): string {
  const summary = messages.length === 1 ? (messages[0] ?? '') : `${messages.length} errors`
  return logPath ? `${summary}, see device log file ${logPath}` : summary
}

function failedModule(module: ModuleUpdate, reason: string): FailedModule {
  const failed: FailedModule = { name: module.name, action: module.action, reason }
  if (module.version !== undefined) failed.version = module.version
  if (module.url !== undefined) failed.url = module.url
  return failed
}

function describe(module: ModuleUpdate): string {
  return module.version === undefined ? `"${module.name}"` : `"${module.name}" version "${module.version}"`
}

/** What discovery depends on: each file's name, size, mode and modification time. */
async function folderSignature(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[])
  const entries = await Promise.all(
    names.sort().map(async (name) => {
      const info = await stat(path.join(dir, name)).catch(() => undefined)
      return info ? `${name}:${info.size}:${info.mode}:${info.mtimeMs}` : name
    }),
  )
  return entries.join('\n')
}
