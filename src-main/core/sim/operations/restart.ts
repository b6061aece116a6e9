import { type Operation, type OperationContext, OperationFailed } from './command'

/** A boot that takes longer than this many times the usual boot time counts as failed. */
const BOOT_TIMEOUT_FACTOR = 2

/**
 * Reboots the device: the agent's health goes down and the device's data stops, then both come back
 * after the profile's boot time. With the `boot` fault the device comes back too late, and the agent
 * reports so once it is up (as tedge-agent does on resuming a restart, reference §3.2).
 */
export async function reboot(ctx: OperationContext): Promise<void> {
  const { bootTicks } = ctx.equipment.profile
  ctx.log('INFO', 'System is going down for reboot')
  await ctx.power(false)
  const late = ctx.faultAt('boot')
  await ctx.wait(late ? bootTicks * (BOOT_TIMEOUT_FACTOR + 1) : bootTicks)
  await ctx.power(true)
  if (late) {
    throw new OperationFailed(
      `The device has not restarted within ${bootTicks * BOOT_TIMEOUT_FACTOR} seconds`,
    )
  }
}

export const restart: Operation = {
  name: 'restart',
  capability: () => ({}),
  faults: [
    { point: 'boot', reason: 'The device has not restarted in time' },
    {
      point: 'shutdown',
      reason: (e) => `${e.name} refused to restart: a safety interlock is active and must be reset on site`,
    },
  ],
  async run(ctx) {
    ctx.log('INFO', `Restart requested (command ${ctx.cmdId})`)
    // Reference §3.2: `executing` is out before the device goes down.
    await ctx.wait(1)
    ctx.fault('shutdown')
    await reboot(ctx)
    return undefined
  },
}
