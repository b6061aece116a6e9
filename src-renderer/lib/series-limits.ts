// Limits of a series (low and high alarm or operating limits), where they are known. Nothing is
// invented: a series without limits is never coloured.
import type { SeriesView } from './api'

export interface SeriesLimits {
  low?: number | null
  high?: number | null
}

/**
 * The limits set for a series (its settings): the alarm limits, or the outer ones where only those
 * are set. Undefined where none are known.
 */
export function limitsOf(series: SeriesView): SeriesLimits | undefined {
  const limits = series.settings?.limits
  if (!limits) return undefined
  const low = limits.low ?? limits.lowLow
  const high = limits.high ?? limits.highHigh
  return low === undefined && high === undefined ? undefined : { low, high }
}

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
