import { mkdirSync } from 'node:fs'
import path from 'node:path'
import pino, { type Logger } from 'pino'
import { LogFile } from './log-file'

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
}

/**
 * One readable line per record for a person at a terminal: `12:03:04 warn  rejected message topic=…`.
 * A stderr that cannot be written (a full disk under a redirect, a closed pipe) loses the line, never
 * the core: the error is swallowed here and on the stream.
 */
const humanStream = {
  write(line: string): void {
    const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line)
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')
    const clock = new Date(time).toISOString().slice(11, 19)
    try {
      process.stderr.write(
        `${clock} ${(LEVELS[level] ?? level).padEnd(5)} ${msg ?? ''}${fields ? ` ${fields}` : ''}\n`,
      )
    } catch {
      // dropped
    }
  },
}
process.stderr.on('error', () => {})

export interface CoreLogger {
  logger: Logger
  /** The JSON-lines file in the data dir's logs/, with its count of dropped lines. */
  file: LogFile
}

/** Logs for people on stderr and as JSON lines in the data dir's logs/ folder. */
export function createLogger(level: string, file: string): CoreLogger {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const logFile = new LogFile(file)
  const logger = pino(
    { level },
    pino.multistream([
      { level: level as pino.Level, stream: humanStream },
      { level: level as pino.Level, stream: logFile },
    ]),
  )
  return { logger, file: logFile }
}
