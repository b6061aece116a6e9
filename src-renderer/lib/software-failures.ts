// Why a software update failed, module by module. thin-edge.io's software_update puts a summary in
// `reason` ("Partial failure: Couldn't install/remove some software modules") and each module's own
// reason under `failures: [{type, modules: [{name, version, action, reason}]}]`; the module's words
// are the ones that say what to fix.
import type { OperationView } from './api'

export interface ModuleFailure {
  type: string
  name: string
  version: string | undefined
  action: string
  reason: string
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined)

/** The modules a software_update payload reports as failed, in their order; [] when none. */
export function moduleFailures(payload: Record<string, unknown>): ModuleFailure[] {
  const failures = payload.failures
  if (!Array.isArray(failures)) return []
  const list: ModuleFailure[] = []
  for (const group of failures as Array<Record<string, unknown> | null>) {
    const modules = group?.modules
    if (!Array.isArray(modules)) continue
    for (const module of modules as Array<Record<string, unknown> | null>) {
      const name = text(module?.name)
      if (!name) continue
      list.push({
        type: text(group?.type) ?? '',
        name,
        version: text(module?.version),
        action: text(module?.action) ?? 'install',
        reason: text(module?.reason) ?? 'no reason given',
      })
    }
  }
  return list
}

/** "Install filler-recipes 2.4.0 (codesys)": what was asked of the module. */
export function moduleChange(failure: ModuleFailure): string {
  const verb = failure.action === 'remove' ? 'Remove' : 'Install'
  const version = failure.version && failure.version !== 'latest' ? ` ${failure.version}` : ''
  return `${verb} ${failure.name}${version}${failure.type ? ` (${failure.type})` : ''}`
}

/** A failed command's reason in one line: the modules' own reasons when it reports them. */
export function failureReason(operation: Pick<OperationView, 'reason' | 'payload'>): string | null {
  const modules = moduleFailures(operation.payload)
  if (modules.length === 0) return operation.reason
  return modules.map((m) => `${moduleChange(m)}: ${m.reason}`).join('; ')
}
