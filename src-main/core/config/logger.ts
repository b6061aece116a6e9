import { mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import pino, { type Logger } from 'pino'

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
}

/** One readable line per record for a person at a terminal: `12:03:04 warn  rejected message topic=…`. */
const humanStream = {
  write(line: string): void {
    const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line)
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')
    const clock = new Date(time).toISOString().slice(11, 19)
    process.stderr.write(
      `${clock} ${(LEVELS[level] ?? level).padEnd(5)} ${msg ?? ''}${fields ? ` ${fields}` : ''}\n`,
    )
  },
}

/** Logs for people on stderr and as JSON lines in the data dir's logs/ folder. */
export function createLogger(level: string, file: string): Logger {
  mkdirSync(path.dirname(file), { recursive: true })
  return pino(
    { level },
    pino.multistream([
      { level: level as pino.Level, stream: humanStream },
      // Opened here, synchronously: pino flushes the file synchronously at process exit, and sonic-boom
      // throws "not ready yet" if its own asynchronous open has not finished (a start that fails fast).
      { level: level as pino.Level, stream: pino.destination({ dest: openSync(file, 'a'), sync: false }) },
    ]),
  )
}
