// An alarm's history as lines a person reads: what happened, by whom, and the raises left out
// (the core keeps the first raise and the latest 20, numbered, so a jump in the numbers is a gap).
import type { AlarmHistoryEntry } from './api'
import { formatTime } from './format'

export interface HistoryLine {
  /** The step's kind, for its marker; `gap` for raises not kept. */
  kind: AlarmHistoryEntry['kind'] | 'gap'
  /** Epoch ms; none for a gap. */
  time: number | undefined
  title: string
  /** What was said: a shelf's reason, a comment. */
  detail?: string
}

/** 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

/** Who acted, in words: a clear on the bus came from the device itself. */
function who(by: string | null): string {
  if (by === null) return ''
  return by === 'device' ? ' by the device' : ` by ${by}`
}

function line(entry: AlarmHistoryEntry): HistoryLine {
  const { kind, time } = entry
  switch (entry.kind) {
    case 'raised':
      return {
        kind,
        time,
        title: entry.occurrence === 1 ? 'Raised' : `Raised again (${ordinal(entry.occurrence)} time)`,
      }
    case 'acknowledged':
      return { kind, time, title: `Acknowledged${who(entry.by)}` }
    case 'shelved':
      return {
        kind,
        time,
        title: `Shelved${who(entry.by)} until ${formatTime(entry.until)}`,
        detail: entry.reason,
      }
    case 'unshelved':
      return { kind, time, title: `Unshelved${who(entry.by)}` }
    case 'shelf-ended':
      return { kind, time, title: 'Shelf ended: its time was up' }
    case 'comment':
      return { kind, time, title: `Comment${who(entry.by)}`, detail: entry.text }
    case 'cleared':
      return { kind, time, title: `Cleared${who(entry.by)}` }
  }
}

export function historyLines(entries: AlarmHistoryEntry[]): HistoryLine[] {
  const lines: HistoryLine[] = []
  let lastRaise = 0
  for (const entry of entries) {
    if (entry.kind === 'raised') {
      const missed = entry.occurrence - lastRaise - 1
      if (missed > 0)
        lines.push({
          kind: 'gap',
          time: undefined,
          title: `${missed} raise${missed === 1 ? '' : 's'} in between, times not kept`,
        })
      lastRaise = entry.occurrence
    }
    lines.push(line(entry))
  }
  return lines
}
