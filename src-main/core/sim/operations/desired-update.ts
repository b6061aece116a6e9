import type { AgentProfile, ConfigKeySpec } from '../agent-profiles'
import { type ConfigValues, checkJsonValue, DeviceConfig } from '../device-config'
import type { LineSettings } from '../line-settings'
import { type Operation, OperationFailed, type Payload } from './command'

// Acknowledgement codes per property, IoT Plug and Play style (docs/sync-protocol.md).
const APPLIED = 200
const REFUSED = 400
const FAILED = 500

interface DesiredKey {
  /** The configuration file that holds the key. */
  type: string
  spec: ConfigKeySpec
}

interface Result {
  ac: number
  ad: string
  /** The value in effect after the command: the one applied, else the one kept (null: no such property). */
  value: number | string | null
}

/** The keys of the device's configuration files that take desired properties, by name. */
function desiredKeys(profile: AgentProfile): Map<string, DesiredKey> {
  const keys = new Map<string, DesiredKey>()
  for (const file of profile.config) {
    for (const [name, spec] of Object.entries(file.keys))
      if (spec.desired) keys.set(name, { type: file.type, spec })
  }
  return keys
}

/**
 * The capability's payload: each property the device takes, described as docs/sync-protocol.md says
 * (type, range, unit, factory value), so a UI can offer the names and check a value before sending.
 */
function capability(profile: AgentProfile): Payload | undefined {
  const keys = desiredKeys(profile)
  if (keys.size === 0) return undefined
  const factory = new DeviceConfig(profile.config)
  const properties: Payload = {}
  for (const [name, { type, spec }] of keys) {
    const described =
      spec.kind === 'number'
        ? { type: spec.integer ? 'integer' : 'number', minimum: spec.min, maximum: spec.max, unit: spec.unit }
        : { type: 'string', pattern: spec.pattern.source, description: spec.expected }
    properties[name] = { ...described, default: factory.factory(type)[name] }
  }
  return { properties }
}

function isObject(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * EdgeTwin's `desired_update` (docs/sync-protocol.md): `{"status":"init","version":N,"properties":{…}}`.
 * Each property is a configuration key the device marks `desired`, checked against the same range as
 * in its file; `null` puts the factory value back (and is accepted for a name the device does not
 * have: there is nothing to remove). Properties are independent: the accepted ones are
 * applied (file, line settings, twin) even when others are refused. The command is `successful` only
 * when every property was applied; otherwise `failed` with a reason naming the refused ones. Either
 * way `results` answers every property with `ac` 200 (applied), 400 (refused: unknown, wrong type or
 * out of range) or 500 (the device failed to write it), `ad` saying why, and the value in effect.
 */
export const desiredUpdate: Operation = {
  name: 'desired_update',
  capability,
  faults: [
    {
      point: 'apply',
      reason: 'Failed to write the parameter memory: EEPROM busy; the previous parameters were kept',
    },
    {
      point: 'apply',
      reason: (e) => `${e.name} is in local mode: parameters can only be changed on its HMI`,
    },
  ],
  async run(ctx) {
    const { request, equipment } = ctx
    const { config } = equipment
    if (!isObject(request.properties)) {
      throw new OperationFailed('Invalid desired_update request: "properties" must be an object')
    }
    const keys = desiredKeys(equipment.profile)
    const current = (name: string, key: DesiredKey) => config.values(key.type)[name] ?? null
    const results: Record<string, Result> = {}
    const accepted = new Map<string, ConfigValues>()
    for (const [name, value] of Object.entries(request.properties)) {
      const key = keys.get(name)
      if (!key && value === null) {
        // Its goal, "not set", already holds: removing a refused property must not be refused again.
        results[name] = { ac: APPLIED, ad: 'not a property of this device: nothing to remove', value: null }
        continue
      }
      if (!key) {
        const known = [...keys.keys()].join(', ')
        results[name] = {
          ac: REFUSED,
          ad: `unknown property "${name}" (${equipment.name} takes ${known})`,
          value: null,
        }
        continue
      }
      const checked = value === null ? config.factory(key.type)[name] : checkJsonValue(name, key.spec, value)
      if (checked === undefined || typeof checked === 'object') {
        const ad = checked?.problem ?? `${name} has no factory value`
        results[name] = { ac: REFUSED, ad, value: current(name, key) }
        continue
      }
      results[name] = {
        ac: APPLIED,
        ad: value === null ? 'removed: factory value restored' : 'applied',
        value: checked,
      }
      accepted.set(key.type, { ...accepted.get(key.type), [name]: checked })
    }

    // Writing the parameter memory takes a moment.
    await ctx.wait(1)
    const fault = ctx.faultAt('apply')
    if (fault) {
      for (const values of accepted.values()) {
        for (const name of Object.keys(values)) {
          const key = keys.get(name) as DesiredKey
          results[name] = { ac: FAILED, ad: fault, value: current(name, key) }
        }
      }
      throw new OperationFailed(fault, { results })
    }

    const settings: Partial<LineSettings> = {}
    const applied: string[] = []
    for (const [type, values] of accepted) {
      for (const { key, from, to } of config.set(type, values)) {
        const spec = keys.get(key)?.spec
        if (spec?.setting && typeof to === 'number') settings[spec.setting] = to
        if (spec?.desired) ctx.setTwin(key, to)
        applied.push(`${key} ${from ?? '-'} → ${to}`)
      }
    }
    if (Object.keys(settings).length > 0) ctx.configure(settings)
    const version = typeof request.version === 'number' ? ` version ${request.version}` : ''
    ctx.log('INFO', `Desired properties${version} applied (${applied.join(', ') || 'no changes'})`)

    const refused = Object.values(results).filter((r) => r.ac !== APPLIED)
    if (refused.length > 0) {
      ctx.log('WARN', `Desired properties refused: ${refused.map((r) => r.ad).join('; ')}`)
      throw new OperationFailed(`Refused desired properties: ${refused.map((r) => r.ad).join('; ')}`, {
        results,
      })
    }
    return { results }
  },
}
