// Limits of a series (low and high alarm or operating limits), where they are known. Nothing is
// invented: a series without limits is never coloured.
import type { SeriesView } from './api'

export interface SeriesLimits {
  low?: number | null
  high?: number | null
}

/** Where the limits of a device's series come from; the default knows none. */
export type LimitsOf = (entity: string, series: SeriesView) => SeriesLimits | undefined

export const noLimits: LimitsOf = () => undefined

/** 'high' above the high limit, 'low' below the low one, undefined inside or when unknown. */
export function outOfRange(
  value: number | null | undefined,
  limits: SeriesLimits | undefined,
): 'low' | 'high' | undefined {
  if (value === null || value === undefined || !Number.isFinite(value) || !limits) return undefined
  if (limits.high != null && value > limits.high) return 'high'
  if (limits.low != null && value < limits.low) return 'low'
  return undefined
}
