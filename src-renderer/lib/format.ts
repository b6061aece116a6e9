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

/** Time of day only, for lists of recent things: "14:03:27". */
export function formatClock(time: number): string {
  return new Date(time).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

/** A series or key name as a label: "fill_pressure" → "Fill pressure", "valves.v1" → "Valves v1". */
export function formatLabel(name: string): string {
  const words = name.replace(/[_.]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** Epoch ms as the local-time value of an `<input type="datetime-local">`. */
export function toDateTimeInput(time: number): string {
  const d = new Date(time)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** The value of an `<input type="datetime-local">` (local time) as epoch ms; undefined when empty. */
export function fromDateTimeInput(text: string): number | undefined {
  const time = text ? new Date(text).getTime() : Number.NaN
  return Number.isFinite(time) ? time : undefined
}

/** The time of day for today, else date and time: compact in lists and tables. */
export function formatWhen(time: number, now = Date.now()): string {
  return new Date(time).toDateString() === new Date(now).toDateString() ? formatClock(time) : formatTime(time)
}

/** A span of milliseconds, as precise as it is worth: "850 ms", "12 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`
  const hours = Math.floor(minutes / 60)
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`
}

/**
 * A size in binary multiples with JEDEC's names (1 KB = 1024 B), as the core sets its bounds
 * (128 KiB batches, a 512 MiB backlog): "512 B", "1.5 KB", "512 MB".
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${units[unit]}`
}

/** A series as cards, charts and lists name it: the name a person gave it, else its own as a label. */
export function seriesName(s: { name: string; settings?: { displayName?: string } | null }): string {
  return s.settings?.displayName || formatLabel(s.name)
}

/** The unit a series is shown in: a person's override, else what the device reported. */
export function seriesUnit(s: { unit: string | null; settings?: { unit?: string } | null }): string | null {
  return s.settings?.unit || s.unit
}
