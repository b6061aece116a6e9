// How values read on screen, in one place.

export function formatValue(value: number | null | undefined, unit?: string | null): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  const digits = abs >= 1000 || Number.isInteger(value) ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3
  const text = value.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  return unit ? `${text} ${unit}` : text
}

export function formatTime(time: number | null | undefined): string {
  if (!time) return '—'
  return new Date(time).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })
}

/** "12 s ago", "5 min ago", "3 h ago", else the date. */
export function formatAgo(time: number | null | undefined, now = Date.now()): string {
  if (!time) return 'never'
  const seconds = Math.max(0, Math.round((now - time) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`
  return formatTime(time)
}
