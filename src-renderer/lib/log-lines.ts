// Log files as lines a person reads: EdgeTwin's own log is pino JSON, one object per line with the
// time in epoch ms; workflow logs start each line with an ISO UTC time. Both become local times like
// the rest of the UI; any other text is shown as it is.
import { formatTime } from './format'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

export interface LogLine {
  /** Local time, when the line has one. */
  time: string | undefined
  level: LogLevel | undefined
  text: string
}

/** pino's numeric levels. */
const LEVELS: Record<number, LogLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
}
/** Fields every pino line carries that say nothing about this event. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v'])
const ISO_START = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s?(.*)$/

export function logLines(text: string): LogLine[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map(logLine)
}

export function logLine(line: string): LogLine {
  const pino = pinoLine(line)
  if (pino) return pino
  const iso = ISO_START.exec(line)
  if (iso) {
    const time = Date.parse(iso[1] as string)
    if (!Number.isNaN(time)) return { time: formatTime(time), level: undefined, text: iso[2] as string }
  }
  return { time: undefined, level: undefined, text: line }
}

function pinoLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.time !== 'number') return undefined
  const level = typeof entry.level === 'number' ? LEVELS[entry.level] : undefined
  const extra = Object.fromEntries(Object.entries(entry).filter(([key]) => !HIDDEN.has(key)))
  const message = typeof entry.msg === 'string' ? entry.msg : ''
  const rest = Object.keys(extra).length ? JSON.stringify(extra) : ''
  return { time: formatTime(entry.time), level, text: [message, rest].filter(Boolean).join(' ') }
}
