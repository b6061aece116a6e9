import type { SoftwareModule, SoftwareTypeSpec } from './agent-profiles'

/** One module of a `software_update` request's `updateList` (reference §3.2). */
export interface ModuleAction {
  name: string
  version?: string
  url?: string
  action: 'install' | 'remove'
}

export interface TypedModules<M> {
  type: string
  modules: M[]
}

export type ModuleFailure = ModuleAction & { reason: string }

/** A malformed `updateList`: the request, not a package, is wrong. */
export class UpdateListError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates `updateList` at the edge; unknown fields of each module are kept, as in the request. */
export function parseUpdateList(value: unknown): TypedModules<ModuleAction>[] {
  const bad = (problem: string) => new UpdateListError(`Invalid software_update request: ${problem}`)
  if (!Array.isArray(value)) throw bad('"updateList" must be an array')
  return value.map((group, g) => {
    if (!isObject(group) || typeof group.type !== 'string' || !Array.isArray(group.modules)) {
      throw bad(`updateList[${g}] must be {"type": string, "modules": [...]}`)
    }
    const modules = group.modules.map((m, i): ModuleAction => {
      const where = `updateList[${g}].modules[${i}]`
      if (!isObject(m) || typeof m.name !== 'string' || m.name === '') throw bad(`${where} needs a "name"`)
      if (m.action !== 'install' && m.action !== 'remove') {
        throw bad(`${where}.action must be "install" or "remove"`)
      }
      if (m.version !== undefined && typeof m.version !== 'string')
        throw bad(`${where}.version must be a string`)
      if (m.url !== undefined && typeof m.url !== 'string') throw bad(`${where}.url must be a string`)
      return m as unknown as ModuleAction
    })
    return { type: group.type, modules }
  })
}

/** The device's installed software per type, changed by updates with goal semantics. */
export class SoftwareInventory {
  private readonly installed = new Map<string, Map<string, string>>()
  private readonly specs = new Map<string, SoftwareTypeSpec>()

  constructor(specs: readonly SoftwareTypeSpec[]) {
    for (const spec of specs) {
      this.specs.set(spec.type, spec)
      this.installed.set(spec.type, new Map(spec.installed.map((m) => [m.name, m.version])))
    }
  }

  get types(): string[] {
    return [...this.specs.keys()]
  }

  /** `currentSoftwareList`: per type, modules sorted by name as a package manager lists them. */
  list(): TypedModules<SoftwareModule>[] {
    return [...this.installed].map(([type, modules]) => ({
      type,
      modules: [...modules]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, version]) => ({ name, version })),
    }))
  }

  /**
   * Brings one module to the requested goal: installed at a version, or absent. Removing what is not
   * installed, or installing what already is, succeeds without change. Returns the failure reason, or
   * undefined on success.
   */
  apply(type: string, module: ModuleAction): string | undefined {
    const spec = this.specs.get(type)
    const installed = this.installed.get(type)
    if (!spec || !installed) return `Unknown software type: "${type}"`
    if (module.action === 'remove') {
      installed.delete(module.name)
      return undefined
    }
    const fill = (template: string, version = '') =>
      template.replaceAll('{name}', module.name).replaceAll('{version}', version)
    // A module with its own URL is installed from that file, not from the device's package source.
    if (module.url) {
      installed.set(module.name, module.version || 'latest')
      return undefined
    }
    const versions = spec.catalogue[module.name]
    if (!versions || versions.length === 0) return fill(spec.unknownPackage)
    const wanted = !module.version || module.version === 'latest' ? versions.at(-1) : module.version
    if (!wanted || !versions.includes(wanted)) return fill(spec.unknownVersion, module.version)
    installed.set(module.name, wanted)
    return undefined
  }
}
