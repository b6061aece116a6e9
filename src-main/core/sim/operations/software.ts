import type { AgentProfile } from '../agent-profiles'
import { type ModuleFailure, parseUpdateList, type TypedModules, UpdateListError } from '../device-software'
import { type Operation, OperationFailed, type Payload } from './command'

function softwareTypes(profile: AgentProfile): Payload | undefined {
  return profile.software.length > 0 ? { types: profile.software.map((s) => s.type) } : undefined
}

/** Reference §3.2: `successful` carries `currentSoftwareList`. */
export const softwareList: Operation = {
  name: 'software_list',
  capability: softwareTypes,
  faults: [{ point: 'list', reason: 'Failed to list the installed software modules: Permission denied' }],
  async run(ctx) {
    await ctx.wait(1)
    ctx.fault('list')
    return { currentSoftwareList: ctx.equipment.software.list() }
  },
}

/**
 * Reference §3.2: each module of `updateList` is brought to its goal (installed at a version, or
 * absent). Modules that fail are listed in `failures` and the command fails with "Partial failure";
 * the others stay applied, as a package manager leaves them.
 */
export const softwareUpdate: Operation = {
  name: 'software_update',
  capability: softwareTypes,
  faults: [
    {
      point: 'prepare',
      reason:
        'Failed to prepare the update: the package source is unreachable (Temporary failure in name resolution)',
    },
    // Strikes the first module to install, as a dropped download would.
    { point: 'module', reason: 'Network timeout' },
  ],
  async run(ctx) {
    const { equipment } = ctx
    let updateList: ReturnType<typeof parseUpdateList>
    try {
      updateList = parseUpdateList(ctx.request.updateList)
    } catch (error) {
      if (error instanceof UpdateListError) throw new OperationFailed(error.message)
      throw error
    }
    ctx.log('INFO', `Software update requested (command ${ctx.cmdId})`)
    await ctx.wait(1)
    ctx.fault('prepare')

    let moduleFault = ctx.faultAt('module')
    const failures: TypedModules<ModuleFailure>[] = []
    for (const { type, modules } of updateList) {
      const failed: ModuleFailure[] = []
      for (const module of modules) {
        await ctx.wait(1)
        let reason: string | undefined
        if (moduleFault && module.action === 'install') {
          reason = moduleFault
          moduleFault = undefined
        } else {
          reason = equipment.software.apply(type, module)
        }
        const what = `${module.action} ${type} ${module.name}${module.version ? ` ${module.version}` : ''}`
        if (reason) {
          failed.push({ ...module, reason })
          ctx.log('ERROR', `Failed to ${what}: ${reason}`)
        } else {
          ctx.log('INFO', `Software: ${what} done`)
        }
      }
      if (failed.length > 0) failures.push({ type, modules: failed })
    }
    if (failures.length > 0) {
      throw new OperationFailed("Partial failure: Couldn't install/remove some software modules", {
        failures,
      })
    }
    return undefined
  },
}
