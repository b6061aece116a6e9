// Desired properties and their sync conflicts in words: policies, the device's answers, states.
import type { DesiredPolicy, DesiredPropertyView } from './api'

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
}

export type Side = 'edge' | 'cloud'
export const otherSide = (side: Side): Side => (side === 'edge' ? 'cloud' : 'edge')
