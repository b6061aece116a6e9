// Editing an entity's twin fragments (thin-edge.io `te/<entity>/twin/<key>`, any JSON value): the
// checks the core makes, made before anything is sent so the operator sees the reason at once.
import { jsonErrorText } from './error-text'

/**
 * Why `key` cannot name a twin fragment, or undefined. The rules of the core's `twinKeyError`
 * (src-main/core/telemetry/payload.ts), which a page cannot import (it reads node:buffer): the key
 * is one topic level, so no `/` and no MQTT wildcard, and `@` keys are thin-edge.io's metadata.
 */
export function twinKeyError(key: string): string | undefined {
  if (key === '') return 'Enter the fragment key.'
  if (key.includes('/')) return 'A key must not contain "/" (it is one topic level).'
  if (key.includes('+') || key.includes('#')) return 'A key must not contain "+" or "#" (MQTT wildcards).'
  if (key.startsWith('@')) return 'A key must not start with "@" (reserved for thin-edge.io metadata).'
  return undefined
}

export type ParsedValue = { value: unknown; error?: undefined } | { error: string }

/**
 * An editor's text as a fragment value: any JSON but null, which would remove the fragment. Desired
 * properties follow the same rule; `what` names the thing in the messages.
 */
export function parseTwinValue(text: string, what = 'fragment'): ParsedValue {
  if (!text.trim()) return { error: 'Enter a JSON value, like "text", 42 or {"name": "value"}.' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { error: `${jsonErrorText(error, text)}.` }
  }
  if (value === null) return { error: `null would remove the ${what}: use Remove instead.` }
  return { value }
}

/** A value as the editor shows it first: indented JSON. */
export const formatTwinValue = (value: unknown): string => JSON.stringify(value, null, 2)

/**
 * Whether two values are the same JSON text, members in order: how the core compares a fragment
 * with its new value. An equal value changes nothing, so no change would ever come back.
 */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
