export type LogLevel = 'INFO' | 'WARN' | 'ERROR'

export interface LogEntry {
  /** Unix milliseconds. */
  time: number
  type: string
  level: LogLevel
  text: string
}

export interface LogQuery {
  /** Unix milliseconds, inclusive; absent = unbounded. */
  from?: number
  to?: number
  /** Plain substring, case-sensitive as a `grep` would be. */
  searchText?: string
  /** Keep only the last `lines` matching lines. */
  lines?: number
}

/** A device's own log files, in memory and bounded: the oldest lines go first, as with logrotate. */
export class DeviceLog {
  private entries: LogEntry[] = []

  /** @param capacity lines kept over all of the device's log types */
  constructor(private readonly capacity = 2000) {}

  add(type: string, level: LogLevel, text: string, time = Date.now()): void {
    this.entries.push({ time, type, level, text })
    // Trim in chunks so a full log does not shift the array on every line.
    if (this.entries.length > this.capacity * 1.1) this.entries = this.entries.slice(-this.capacity)
  }

  get size(): number {
    return Math.min(this.entries.length, this.capacity)
  }

  /** The matching lines of one log type, oldest first, formatted as the file would read. */
  query(type: string, query: LogQuery = {}): string[] {
    const { from = -Infinity, to = Infinity, searchText = '', lines = Infinity } = query
    const matching: string[] = []
    for (const entry of this.entries.slice(-this.capacity)) {
      if (entry.type !== type || entry.time < from || entry.time > to) continue
      const line = formatLine(entry)
      if (searchText !== '' && !line.includes(searchText)) continue
      matching.push(line)
    }
    return lines < matching.length ? matching.slice(matching.length - lines) : matching
  }
}

export function formatLine(entry: LogEntry): string {
  return `${new Date(entry.time).toISOString()} ${entry.level.padEnd(5)} ${entry.text}`
}
