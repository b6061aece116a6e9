import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { formatSize, parseSize } from '../core/config/size'
import { UsageError } from './command'

/** The largest count a `--max-*` option takes. */
export const LIMIT_MAX = 10_000_000

/** MQTT packet and payload sizes: a packet header at least; 256 MiB is MQTT's own maximum. */
export const MQTT_SIZE = { min: 64, max: 256 * 1024 * 1024 }

/** Where all state lives: EDGETWIN_DATA_DIR (set for workflow scripts), else the platform's place. */
export function defaultDataDir(): string {
  return process.env.EDGETWIN_DATA_DIR ? path.resolve(process.env.EDGETWIN_DATA_DIR) : platformDataDir()
}

/** Electron's userData for an app named EdgeTwin, so the desktop app and the CLI share one twin. */
export function platformDataDir(): string {
  const home = os.homedir()
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'EdgeTwin')
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'EdgeTwin')
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'EdgeTwin')
}

/** A string option's value (flags are booleans). */
export const text = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined

export function integer(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`)
  return n
}

export function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, not "${value}"`)
  return n
}

export function fraction(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (value.trim() === '' || !(number >= 0 && number <= 1))
    throw new UsageError(`--${name} must be between 0 and 1`)
  return number
}

export function brokerUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  if (!/^(mqtts?|wss?|tcp):\/\/[^/]+/.test(value))
    throw new UsageError(`--${name} must be a URL like mqtt://host:1883, not "${value}"`)
  return value
}

/** A file's content for an option, read now so a wrong path fails before anything starts. */
export function fileOption(file: string | undefined, name: string): string | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

/**
 * A size in bytes: a number with an optional unit (`500M` and `2G` are binary, as are MiB and GiB),
 * within `min` and `max` (0 is a size only when `min` is 0).
 */
export function sizeOption(
  value: string | undefined,
  name: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined
  const bytes = value.trim() === '0' ? 0 : parseSize(value)
  if (bytes === undefined || bytes < min || bytes > max) {
    const range =
      min > 1 || max < Number.MAX_SAFE_INTEGER ? ` from ${formatSize(min)} to ${formatSize(max)}` : ''
    throw new UsageError(`--${name} must be a size like 500M or 2G${range}, not "${value}"`)
  }
  return bytes
}
