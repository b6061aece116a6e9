// Desired properties and their sync conflicts in words: policies, the device's answers, states.
import type { DesiredPolicy, DesiredPropertySpec, DesiredPropertyView } from './api'
import { formatValue } from './format'
import { type ParsedValue, parseTwinValue } from './twin-fragment'

export const POLICIES: Array<{ value: DesiredPolicy; label: string; explained: string }> = [
  { value: 'cloud-wins', label: 'Cloud wins', explained: 'In a conflict, the cloud’s change is kept.' },
  { value: 'edge-wins', label: 'Edge wins', explained: 'In a conflict, the change made here is kept.' },
  {
    value: 'last-writer-wins',
    label: 'Last writer wins',
    explained: 'In a conflict, the later change is kept.',
  },
]

export const policyLabel = (policy: DesiredPolicy) =>
  POLICIES.find((p) => p.value === policy)?.label ?? policy

/**
 * The device's answer code as a word. The codes are IoT Plug and Play's, HTTP-like: 200 applied,
 * 202 in progress, 4xx refused (the value is wrong), 5xx failed (the device is).
 */
export function ackWord(code: number): string {
  if (code === 200) return 'applied'
  if (code === 202) return 'in progress'
  if (code >= 200 && code < 300) return 'accepted'
  if (code >= 400 && code < 500) return 'refused'
  return 'failed'
}

/** A property's state as a tone of the shared `.tone-*` classes (app.css). */
export const STATE_TONES: Record<DesiredPropertyView['state'], string> = {
  pending: 'pending',
  'in-progress': 'running',
  applied: 'ok',
  refused: 'failed',
  drifted: 'warning',
}

/** Whether a property is edited as one plain value (a number, a word, a choice) rather than as JSON. */
export const isPlain = (spec: DesiredPropertySpec | undefined): spec is DesiredPropertySpec =>
  spec?.type !== undefined || spec?.enum !== undefined

/** What a device says it accepts, in words: "30 to 180 bottles/min, whole numbers; factory value 120". */
export function specHint(spec: DesiredPropertySpec | undefined): string {
  if (!spec) return ''
  const parts: string[] = []
  const { minimum, maximum, unit } = spec
  if (spec.enum) parts.push(`one of ${spec.enum.join(', ')}`)
  else if (minimum !== undefined && maximum !== undefined)
    parts.push(`${formatValue(minimum)} to ${formatValue(maximum, unit)}`)
  else if (minimum !== undefined) parts.push(`at least ${formatValue(minimum, unit)}`)
  else if (maximum !== undefined) parts.push(`at most ${formatValue(maximum, unit)}`)
  else if (unit) parts.push(`in ${unit}`)
  if (spec.type === 'integer') parts.push('whole numbers')
  if (spec.description) parts.push(spec.description)
  if (spec.default !== undefined) parts.push(`factory value ${spec.default}`)
  return parts.join('; ')
}

/** A value typed for a property, checked against what the device accepts; JSON when it does not say. */
export function parseDesiredValue(spec: DesiredPropertySpec | undefined, text: string): ParsedValue {
  if (!isPlain(spec)) return parseTwinValue(text, 'property')
  const trimmed = text.trim()
  if (trimmed === '') return { error: 'Enter a value.' }
  if (spec.enum) {
    const value = spec.enum.find((option) => String(option) === trimmed)
    return value === undefined ? { error: `Choose one of ${spec.enum.join(', ')}.` } : { value }
  }
  switch (spec.type) {
    case 'boolean':
      return trimmed === 'true' || trimmed === 'false'
        ? { value: trimmed === 'true' }
        : { error: 'Choose on or off.' }
    case 'number':
    case 'integer': {
      const value = Number(trimmed)
      if (!Number.isFinite(value)) return { error: 'Enter a number, like 120 or 2.5.' }
      if (spec.type === 'integer' && !Number.isInteger(value)) return { error: 'Enter a whole number.' }
      const outside =
        (spec.minimum !== undefined && value < spec.minimum) ||
        (spec.maximum !== undefined && value > spec.maximum)
      return outside
        ? { error: `Enter ${specHint({ ...spec, default: undefined, description: undefined })}.` }
        : { value }
    }
    default:
      return spec.pattern !== undefined && !matches(spec.pattern, trimmed)
        ? { error: `Not accepted${spec.description ? `: expected ${spec.description}` : ''}.` }
        : { value: trimmed }
  }
}

/** Whether text matches a device's pattern; a pattern the browser cannot read checks nothing. */
function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern).test(text)
  } catch {
    return true
  }
}

export type Side = 'edge' | 'cloud'
export const otherSide = (side: Side): Side => (side === 'edge' ? 'cloud' : 'edge')
