// An alarm's history as lines a person reads: what happened, by whom, and what was said. The core
// keeps the first raise and the latest 20, numbered; a chattering alarm's raises in a row are one
// line (with each time on request), so its acknowledgement, shelves and comments stay in view.
import type { AlarmHistoryEntry } from './api'
import { formatTime } from './format'

/** Raises in a row from this many on are folded into one line. */
export const RAISE_RUN = 3

export interface Raise {
  time: number
  occurrence: number
}

export interface HistoryLine {
  /** The step's kind, for its marker; `raises` for raises in a row, `gap` for raises not kept. */
  kind: AlarmHistoryEntry['kind'] | 'raises' | 'gap'
  /** Epoch ms; none for a gap. */
  time: number | undefined
  title: string
  /** What was said (a shelf's reason, a comment), or a note on the line. */
  detail?: string
  /** `raises`: each raise kept. */
  raises?: Raise[]
}

/** 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Who acted, in words: a clear on the bus came from the device itself. */
function who(by: string | null): string {
  if (by === null) return ''
  return by === 'device' ? ' by the device' : ` by ${by}`
}

function line(entry: Exclude<AlarmHistoryEntry, { kind: 'raised' }>): HistoryLine {
  const { kind, time } = entry
  switch (entry.kind) {
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

/** Raises in a row, after the raise numbered `before`: one line each, or one for them all. */
function raiseLines(run: Raise[], before: number): HistoryLine[] {
  const last = run[run.length - 1] as Raise
  const first = run[0] as Raise
  const notKept = last.occurrence - before - run.length
  if (run.length >= RAISE_RUN) {
    const total = last.occurrence - before
    return [
      {
        kind: 'raises',
        time: first.time,
        title: `Raised again ${plural(total, 'time')}, until ${formatTime(last.time)}`,
        detail: notKept > 0 ? `The times of the first ${notKept} are not kept.` : undefined,
        raises: run,
      },
    ]
  }
  const lines: HistoryLine[] = []
  let previous = before
  for (const raise of run) {
    const missed = raise.occurrence - previous - 1
    if (missed > 0)
      lines.push({
        kind: 'gap',
        time: undefined,
        title: `${plural(missed, 'raise')} in between, times not kept`,
      })
    lines.push({
      kind: 'raised',
      time: raise.time,
      title: raise.occurrence === 1 ? 'Raised' : `Raised again (${ordinal(raise.occurrence)} time)`,
    })
    previous = raise.occurrence
  }
  return lines
}

export function historyLines(entries: AlarmHistoryEntry[]): HistoryLine[] {
  const lines: HistoryLine[] = []
  let run: Raise[] = []
  let lastRaise = 0
  const endRun = () => {
    if (run.length) lines.push(...raiseLines(run, lastRaise))
    lastRaise = run.at(-1)?.occurrence ?? lastRaise
    run = []
  }
  for (const entry of entries) {
    if (entry.kind === 'raised') {
      // The first raise stands alone: it is when the alarm began.
      if (entry.occurrence === 1) {
        endRun()
        run = [{ time: entry.time, occurrence: 1 }]
        endRun()
      } else run.push({ time: entry.time, occurrence: entry.occurrence })
      continue
    }
    endRun()
    lines.push(line(entry))
  }
  endRun()
  return lines
}
