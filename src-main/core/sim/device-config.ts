import type { ConfigFileSpec, ConfigKeySpec } from './agent-profiles'

export type ConfigValues = Record<string, number | string>

/** A configuration file the device would refuse, with the reason a technician can act on. */
export class ConfigError extends Error {}

/** Devices keep their parameter files small; anything bigger is not one of them. */
const MAX_CONFIG_BYTES = 64 * 1024

type Checked = number | string | { problem: string }

function checkNumber(
  key: string,
  spec: ConfigKeySpec & { kind: 'number' },
  value: number,
  raw: string,
): Checked {
  const range = `${spec.min}..${spec.max}${spec.unit ? ` ${spec.unit}` : ''}`
  if (spec.integer && !Number.isInteger(value)) return { problem: `${key} = ${raw} is not a whole number` }
  if (value < spec.min || value > spec.max) return { problem: `${key} = ${raw} is out of range (${range})` }
  return value
}

/** The value, or what is wrong with it. */
function checkValue(key: string, spec: ConfigKeySpec, raw: string): Checked {
  if (spec.kind === 'text') {
    return spec.pattern.test(raw) ? raw : { problem: `${key} = ${raw} is not ${spec.expected}` }
  }
  const value = Number(raw)
  if (raw === '' || !Number.isFinite(value)) return { problem: `${key} = ${raw} is not a number` }
  return checkNumber(key, spec, value, raw)
}

/**
 * A value given as JSON (a desired property) checked like the same key in the file: a number key
 * takes a JSON number only (not "500"), a text key a string. Returns the value, or what is wrong.
 */
export function checkJsonValue(key: string, spec: ConfigKeySpec, value: unknown): Checked {
  const shown = JSON.stringify(value) ?? String(value)
  if (spec.kind === 'text') {
    return typeof value === 'string'
      ? checkValue(key, spec, value)
      : { problem: `${key} = ${shown} is not ${spec.expected}` }
  }
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { problem: `${key} = ${shown} is not a number` }
  return checkNumber(key, spec, value, shown)
}

/**
 * Parses a `key = value` file: blank lines and `#` comments are skipped, every key must be known,
 * appear once and be in range. Throws ConfigError naming the file and the line.
 */
export function parseConfig(spec: ConfigFileSpec, text: string): ConfigValues {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigError(`Invalid ${spec.type}: larger than ${MAX_CONFIG_BYTES / 1024} KiB`)
  }
  if (text.includes('\0')) throw new ConfigError(`Invalid ${spec.type}: not a text file`)
  const values: ConfigValues = {}
  const lines = text.split(/\r?\n/)
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const where = `Invalid ${spec.type}, line ${index + 1}`
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(trimmed)
    if (!match) throw new ConfigError(`${where}: expected "key = value", got "${trimmed.slice(0, 60)}"`)
    const [, key = '', raw = ''] = match
    const keySpec = spec.keys[key]
    if (!keySpec) throw new ConfigError(`${where}: unknown key "${key}"`)
    if (key in values) throw new ConfigError(`${where}: duplicate key "${key}"`)
    const problem = checkValue(key, keySpec, raw.trim())
    if (typeof problem === 'object') throw new ConfigError(`${where}: ${problem.problem}`)
    values[key] = problem
  }
  return values
}

export interface ConfigChange {
  key: string
  from: number | string | undefined
  to: number | string
}

/** The device's configuration files: current content and the values in effect. */
export class DeviceConfig {
  private readonly files = new Map<string, { spec: ConfigFileSpec; content: string; values: ConfigValues }>()

  constructor(specs: readonly ConfigFileSpec[]) {
    for (const spec of specs) {
      this.files.set(spec.type, { spec, content: spec.content, values: parseConfig(spec, spec.content) })
    }
  }

  get types(): string[] {
    return [...this.files.keys()]
  }

  spec(type: string): ConfigFileSpec | undefined {
    return this.files.get(type)?.spec
  }

  content(type: string): string | undefined {
    return this.files.get(type)?.content
  }

  values(type: string): Readonly<ConfigValues> {
    return this.files.get(type)?.values ?? {}
  }

  /** The values `text` would put in effect: keys it leaves out take the factory value. Throws ConfigError. */
  validate(type: string, text: string): ConfigValues {
    const file = this.files.get(type)
    if (!file) throw new ConfigError(`The requested config_type "${type}" is not defined`)
    return { ...parseConfig(file.spec, file.spec.content), ...parseConfig(file.spec, text) }
  }

  /** The values of the factory file, which keys left out of an uploaded file fall back to. */
  factory(type: string): Readonly<ConfigValues> {
    const file = this.files.get(type)
    return file ? parseConfig(file.spec, file.spec.content) : {}
  }

  /**
   * Sets single keys (already checked) as a technician would edit the file: each `key = value`
   * line is rewritten in place, comments kept; a key the file lacks is appended. Returns what changed.
   */
  set(type: string, values: Readonly<ConfigValues>): ConfigChange[] {
    const file = this.files.get(type)
    if (!file) return []
    let text = file.content
    for (const [key, value] of Object.entries(values)) {
      const line = new RegExp(`^([ \\t]*)${key.replaceAll('.', '\\.')}[ \\t]*=[^\\r\\n]*$`, 'm')
      text = line.test(text)
        ? text.replace(line, (_, indent: string) => `${indent}${key} = ${value}`)
        : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${key} = ${value}\n`
    }
    return this.commit(type, text, this.validate(type, text))
  }

  /** Stores validated content; returns what changed. */
  commit(type: string, text: string, values: ConfigValues): ConfigChange[] {
    const file = this.files.get(type)
    if (!file) return []
    const changes = Object.entries(values)
      .filter(([key, value]) => file.values[key] !== value)
      .map(([key, to]) => ({ key, from: file.values[key], to }))
    file.content = text
    file.values = values
    return changes
  }
}
