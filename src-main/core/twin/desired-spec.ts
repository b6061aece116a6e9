import type { DesiredPropertySpec } from '../api/types'

/** A device describes at most this many properties: the capability payload comes from the bus. */
const MAX_SPECS = 256
const MAX_TEXT = 200
const TYPES = new Set(['number', 'integer', 'string', 'boolean'])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const text = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_TEXT
const scalar = (value: unknown) => finite(value) || text(value) || typeof value === 'boolean'

/**
 * The properties a device accepts, from the payload of its `cmd/desired_update` capability
 * (docs/sync-protocol.md): `{"properties": {"<name>": {"type": "integer", "minimum": 30, …}}}`, a
 * subset of JSON Schema with `unit`. The payload is the device's word, from the bus: what is not
 * understood is left out rather than refused, and null means the device did not say.
 */
export function desiredSpecs(capability: unknown): Record<string, DesiredPropertySpec> | null {
  if (!isObject(capability) || !isObject(capability.properties)) return null
  const specs: Record<string, DesiredPropertySpec> = {}
  for (const [name, raw] of Object.entries(capability.properties).slice(0, MAX_SPECS)) {
    if (!isObject(raw) || name.length > 128) continue
    const spec: DesiredPropertySpec = {}
    if (typeof raw.type === 'string' && TYPES.has(raw.type))
      spec.type = raw.type as DesiredPropertySpec['type']
    if (finite(raw.minimum)) spec.minimum = raw.minimum
    if (finite(raw.maximum)) spec.maximum = raw.maximum
    if (text(raw.unit)) spec.unit = raw.unit
    if (text(raw.description)) spec.description = raw.description
    if (text(raw.pattern)) spec.pattern = raw.pattern
    if (scalar(raw.default)) spec.default = raw.default as DesiredPropertySpec['default']
    if (Array.isArray(raw.enum) && raw.enum.length <= MAX_SPECS && raw.enum.every(scalar))
      spec.enum = raw.enum as NonNullable<DesiredPropertySpec['enum']>
    specs[name] = spec
  }
  return specs
}
