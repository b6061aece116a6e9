// Sizes as people write them, in settings and on the command line.

const UNITS: Record<string, number> = {
  b: 1,
  // A single letter, as in `1G`, means the binary multiple (as dd, du and ls read it).
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

/** A positive byte count: an integer, or a string like "512 MiB" or "2GB" (SI and IEC units). */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'bigint') value = Number(value)
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = UNITS[(match?.[2] || 'b').toLowerCase()]
  if (!match || unit === undefined) return undefined
  const bytes = Math.floor(Number(match[1]) * unit)
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** A byte count for people: "16 MiB", "4 GiB", "1234 bytes". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`
  }
  return `${bytes} bytes`
}
