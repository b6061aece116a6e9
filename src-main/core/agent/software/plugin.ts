import { type PluginCallResult, runPluginProcess } from './plugin-process'
import type { ModuleAction, SoftwareCallContext, SoftwareModule } from './types'

// One software-management plugin: an executable named after the software type it handles
// (reference §4, thin-edge.io plugin_sm/src/plugin.rs `ExternalPluginCommand`).

export interface SmPluginOptions {
  /** Milliseconds before a plugin call is killed. The sm-plugin API's 5 minutes by default. */
  timeoutMs?: number
  /** Milliseconds between SIGTERM and SIGKILL when a call is killed. */
  killGraceMs?: number
  /** Added to the plugins' environment, e.g. `EDGETWIN_DATA_DIR`. */
  env?: NodeJS.ProcessEnv
  /**
   * thin-edge.io's `software.plugin.include` / `exclude` (regular expressions on module names): with
   * either set, a module is listed when it matches `include` or does not match `exclude`.
   */
  include?: string
  exclude?: string
  /** thin-edge.io's `software.plugin.max_packages`: modules listed per type, 0 for all. Default 1000. */
  maxPackages?: number
}

export const DEFAULT_PLUGIN_TIMEOUT_MS = 5 * 60_000
const DEFAULT_KILL_GRACE_MS = 5_000
const DEFAULT_MAX_PACKAGES = 1000

/** How a plugin command ended, with the reason thin-edge.io reports when it failed. */
export type PluginOutcome =
  | { ok: true; result: PluginCallResult }
  | { ok: false; result: PluginCallResult; reason: string; notSupported: boolean }

/** A module as passed to `install` / `remove`: `--file` once its `url` has been downloaded. */
export interface PluginModuleArgs {
  name: string
  version?: string
  file?: string
}

export interface UpdateLine {
  action: ModuleAction
  name: string
  version?: string
  file?: string
}

/** Thrown when the caller's AbortSignal stops a plugin call. */
export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError')
}

/** The sm-plugin exit codes, for a reason when the plugin said nothing on stderr. */
const EXIT_MEANING: Record<number, string> = { 1: 'usage', 2: 'failure', 3: 'retry', 4: 'timeout' }

export class SmPlugin {
  constructor(
    /** The software type: the plugin's file name. */
    readonly type: string,
    readonly path: string,
    private readonly options: SmPluginOptions = {},
  ) {}

  /** `list`: the installed modules, filtered by include/exclude and capped at maxPackages. */
  async list(ctx: SoftwareCallContext = {}): Promise<{ modules: SoftwareModule[] } | { error: string }> {
    const outcome = await this.call(['list'], ctx)
    if (!outcome.ok) return { error: outcome.reason }
    try {
      return { modules: this.filter(parseModuleList(outcome.result.stdout)) }
    } catch (error) {
      // An include/exclude that is not a regular expression (thin-edge.io: SoftwareError::RegexError).
      return { error: `Regex error: ${(error as Error).message}` }
    }
  }

  prepare(ctx: SoftwareCallContext): Promise<PluginOutcome> {
    return this.call(['prepare'], ctx)
  }

  finalize(ctx: SoftwareCallContext): Promise<PluginOutcome> {
    return this.call(['finalize'], ctx)
  }

  /** `install NAME [--module-version V] [--file F]` / `remove NAME [--module-version V]`. */
  apply(action: ModuleAction, module: PluginModuleArgs, ctx: SoftwareCallContext): Promise<PluginOutcome> {
    const args: string[] = [action, module.name]
    if (module.version !== undefined) args.push('--module-version', module.version)
    if (action === 'install' && module.file !== undefined) args.push('--file', module.file)
    return this.call(args, ctx)
  }

  /**
   * `update-list` with one `action<TAB>name<TAB>version<TAB>path` line per module on stdin; a
   * remove line ends with an empty path (plugin.rs `update_list`). Exit 1 means "not supported".
   */
  updateList(lines: readonly UpdateLine[], ctx: SoftwareCallContext): Promise<PluginOutcome> {
    const stdin = lines
      .map((l) =>
        l.action === 'install'
          ? `install\t${l.name}\t${l.version ?? ''}\t${l.file ?? ''}\n`
          : `remove\t${l.name}\t${l.version ?? ''}\t\n`,
      )
      .join('')
    return this.call(['update-list'], ctx, stdin)
  }

  /** Runs one command. Rejects only when the caller aborts; every other failure is an outcome. */
  async call(args: string[], ctx: SoftwareCallContext, stdin?: string): Promise<PluginOutcome> {
    if (ctx.signal?.aborted) throw abortError(ctx.signal)
    const result = await runPluginProcess(this.path, args, {
      stdin,
      timeoutMs: this.options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS,
      killGraceMs: this.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      signal: ctx.signal,
      log: ctx.log,
      onSpawn: ctx.onSpawn,
      env: this.options.env ? { ...process.env, ...this.options.env } : process.env,
    })
    const { exit } = result
    if (exit.kind === 'aborted' && ctx.signal) throw abortError(ctx.signal)
    if (exit.kind === 'exited' && exit.code === 0) return { ok: true, result }
    return {
      ok: false,
      result,
      reason: this.reason(args[0] ?? '', result),
      notSupported: exit.kind === 'exited' && exit.code === 1,
    }
  }

  private reason(command: string, result: PluginCallResult): string {
    const stderr = result.stderr.trim()
    const { exit } = result
    switch (exit.kind) {
      case 'spawn-failed':
        return `cannot run ${this.path}: ${exit.error}`
      case 'timeout':
        return stderr
      case 'killed':
        // thin-edge.io's update_list says "Interrupted" when the plugin has no exit code.
        return stderr || `${this.type} ${command} interrupted by ${exit.signal}`
      case 'aborted':
        return `${this.type} ${command} aborted`
      case 'exited': {
        const meaning = EXIT_MEANING[exit.code]
        return stderr || `${this.type} ${command} exited with ${exit.code}${meaning ? ` (${meaning})` : ''}`
      }
    }
  }

  private filter(modules: SoftwareModule[]): SoftwareModule[] {
    const { include, exclude } = this.options
    let kept = modules
    if (include !== undefined || exclude !== undefined) {
      // plugin.rs `list`: a missing include matches nothing, a missing exclude matches everything.
      const inc = new RegExp(include ?? '^$')
      const exc = new RegExp(exclude ?? '.*')
      kept = modules.filter((m) => inc.test(m.name) || !exc.test(m.name))
    }
    const max = this.options.maxPackages ?? DEFAULT_MAX_PACKAGES
    return max > 0 ? kept.slice(0, max) : kept
  }
}

/**
 * Parses `list` output: one `name<TAB>version` per line, the version (and its tab) optional
 * (software-management-plugin-api.md "The list command"). Blank lines are skipped.
 */
export function parseModuleList(stdout: string): SoftwareModule[] {
  const modules: SoftwareModule[] = []
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '') continue
    const [name = '', version] = line.split('\t')
    modules.push(version ? { name, version } : { name })
  }
  return modules
}
