import type { Severity } from './threshold-alarm'

/** Flat series, or one level of groups (`{"valves":{"v1":…}}`), as thin-edge.io allows (reference §2.1). */
export type MeasurementValues = Record<string, number | Record<string, number>>

export interface MeasurementOut {
  entity: string
  type: string
  values: MeasurementValues
  /** Whether the device stamps this message with `time`; thin-edge.io accepts both (reference §2.1). */
  timestamped: boolean
}

export interface EventOut {
  entity: string
  type: string
  text: string
  /** Extra fragments merged into the event payload (reference §2.3). */
  fragments?: Record<string, string | number | Record<string, string | number>>
}

export interface AlarmOut {
  entity: string
  type: string
  /** `null` clears the alarm. */
  severity: Severity | null
  text: string
}

/** What the line's devices publish after one simulated second. */
export interface TickOutput {
  tick: number
  measurements: MeasurementOut[]
  events: EventOut[]
  alarms: AlarmOut[]
}

/** Devices report readings at a sensible resolution, not with float noise in the last digits. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
