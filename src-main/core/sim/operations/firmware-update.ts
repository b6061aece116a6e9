import { createHash } from 'node:crypto'
import { firstString, type Operation, OperationFailed, requireString } from './command'
import { reboot } from './restart'
import { download, isLocalHttp } from './transfer'

/**
 * firmware_update as a user workflow would run it, with the states of the reference's example workflow
 * (§3.4): download, install, reboot, verify, commit (or rollback). A local http(s) URL is really downloaded (and checked against `sha256` if given); any other
 * URL is a simulated download. On success the `firmware` twin fragment shows the new image.
 */
export const firmwareUpdate: Operation = {
  name: 'firmware_update',
  capability: (profile) => (profile.firmwareUpdate ? {} : undefined),
  faults: [
    { point: 'download', reason: 'Firmware download failed: connection timed out after 30 s' },
    { point: 'install', reason: 'Firmware image signature verification failed' },
    { point: 'boot', reason: 'The device has not restarted in time' },
    {
      point: 'verify',
      reason: (e) =>
        `The new image failed its self-test after reboot; rolled back to ${e.firmware.name} ${e.firmware.version}`,
    },
  ],
  async run(ctx) {
    const { request, equipment } = ctx
    const name = requireString(request, 'firmware_update', 'name')
    const version = requireString(request, 'firmware_update', 'version')
    // EdgeTwin's cached copy first, as thin-edge.io's download action falls back tedgeUrl → remoteUrl.
    const source = firstString(request, 'tedgeUrl', 'url', 'remoteUrl')
    if (!source) {
      throw new OperationFailed(
        'Invalid firmware_update request: one of "remoteUrl", "tedgeUrl" or "url" is required',
      )
    }
    ctx.log('INFO', `Firmware update to ${name} ${version} requested (command ${ctx.cmdId})`)

    await ctx.step('download')
    if (isLocalHttp(source)) {
      const image = await download(source, ctx.signal)
      const expected = firstString(request, 'sha256')?.toLowerCase()
      const actual = createHash('sha256').update(image).digest('hex')
      if (expected && expected !== actual) {
        throw new OperationFailed(`Firmware image checksum mismatch: expected ${expected}, got ${actual}`)
      }
      ctx.log('INFO', `Downloaded firmware image: ${image.length} bytes, sha256 ${actual}`)
    } else {
      await ctx.wait(2)
      ctx.log('INFO', `Downloaded firmware image from ${source}`)
    }
    ctx.fault('download')

    await ctx.step('install', 2)
    ctx.fault('install')
    ctx.log('INFO', `Firmware ${name} ${version} written to the inactive partition`)

    await ctx.step('reboot', 0)
    await reboot(ctx)

    await ctx.step('verify')
    const selfTestFailure = ctx.faultAt('verify')
    if (selfTestFailure) {
      await ctx.step('rollback', 0)
      throw new OperationFailed(selfTestFailure)
    }
    await ctx.step('commit', 0)
    equipment.firmware = { name, version, url: firstString(request, 'remoteUrl', 'url', 'tedgeUrl') }
    ctx.setTwin('firmware', { ...equipment.firmware })
    ctx.log('INFO', `Firmware ${name} ${version} committed`)
    return undefined
  },
}
