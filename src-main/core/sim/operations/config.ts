import type { AgentProfile } from '../agent-profiles'
import { ConfigError } from '../device-config'
import type { LineSettings } from '../line-settings'
import { firstString, type Operation, OperationFailed, type Payload, requireString } from './command'
import { download, upload } from './transfer'

function configTypes(profile: AgentProfile): Payload | undefined {
  return profile.config.length > 0 ? { types: profile.config.map((c) => c.type) } : undefined
}

function unknownType(type: string): string {
  // tedge's ConfigManagementError::InvalidRequestedConfigType.
  return `The requested config_type "${type}" is not defined in the plugin configuration file.`
}

/** Reference §3.2: uploads the file's current content to `tedgeUrl`; `successful` adds its `path`. */
export const configSnapshot: Operation = {
  name: 'config_snapshot',
  capability: configTypes,
  faults: [
    { point: 'read', reason: 'Failed to read the configuration file: Permission denied (os error 13)' },
    { point: 'upload', reason: 'Failed to upload the configuration snapshot: connection reset by peer' },
  ],
  async run(ctx) {
    const { config } = ctx.equipment
    const type = requireString(ctx.request, 'config_snapshot', 'type')
    const spec = config.spec(type)
    const content = config.content(type)
    if (!spec || content === undefined) {
      throw new OperationFailed(
        `Failed to initiate configuration snapshot upload to file-transfer service: ${unknownType(type)}`,
      )
    }
    // A child agent has no file transfer service of its own: it needs the requester's URL (reference §1.7).
    const tedgeUrl = requireString(ctx.request, 'config_snapshot', 'tedgeUrl')
    await ctx.wait(1)
    ctx.fault('read')
    ctx.fault('upload')
    await upload(tedgeUrl, content, ctx.signal)
    ctx.log('INFO', `Configuration snapshot of ${spec.path} uploaded (command ${ctx.cmdId})`)
    return { path: spec.path }
  },
}

/**
 * Reference §3.2 and the builtin workflow's download → set steps: fetches the new file, validates it
 * against the device's parameter ranges, applies it. An applied file changes the line's behaviour
 * where a key drives a line setting.
 */
export const configUpdate: Operation = {
  name: 'config_update',
  capability: configTypes,
  faults: [
    {
      point: 'download',
      reason: 'Failed to download the configuration file: connection timed out after 30 s',
    },
    {
      point: 'set',
      reason: 'Failed to write the parameter memory: EEPROM busy; the previous configuration was restored',
    },
  ],
  async run(ctx) {
    const { config } = ctx.equipment
    const type = requireString(ctx.request, 'config_update', 'type')
    const spec = config.spec(type)
    if (!spec) throw new OperationFailed(`Failed to apply the configuration: ${unknownType(type)}`)
    const source = firstString(ctx.request, 'tedgeUrl', 'remoteUrl')
    if (!source)
      throw new OperationFailed('Invalid config_update request: "tedgeUrl" or "remoteUrl" is required')

    await ctx.step('download')
    const text = (await download(source, ctx.signal)).toString('utf8')
    ctx.fault('download')

    await ctx.step('set')
    let values: ReturnType<typeof config.validate>
    try {
      values = config.validate(type, text)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      ctx.log('ERROR', `Configuration ${spec.path} rejected: ${error.message}`)
      throw new OperationFailed(error.message)
    }
    ctx.fault('set')
    const changes = config.commit(type, text, values)

    const settings: Partial<LineSettings> = {}
    for (const { key, to } of changes) {
      const keySpec = spec.keys[key]
      if (keySpec?.setting && typeof to === 'number') settings[keySpec.setting] = to
      if (keySpec?.desired) ctx.setTwin(key, to)
    }
    if (Object.keys(settings).length > 0) ctx.configure(settings)
    const summary = changes.map((c) => `${c.key} ${c.from ?? '-'} → ${c.to}`).join(', ') || 'no changes'
    ctx.log('INFO', `Configuration ${spec.path} applied (${summary})`)
    return { path: spec.path }
  },
}
