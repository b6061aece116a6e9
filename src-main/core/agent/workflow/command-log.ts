import { closeSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'

/** Newest workflow logs kept per operation (thin-edge.io `logs.max_per_operation` keeps 5). */
export const LOGS_PER_OPERATION = 20

/** The file of one command's workflow log: thin-edge.io's `workflow-<op>-<cmd_id>.log`. */
export function commandLogFile(logsDir: string, operation: string, cmdId: string): string {
  // Ids are made safe for any filesystem (thin-edge.io's mappers avoid `:` for FAT32 for the same reason).
  return path.join(logsDir, `workflow-${operation}-${safeName(cmdId)}.log`)
}

export const safeName = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_')

/**
 * One command's log while the engine drives it: state changes, command lines and their output.
 * Written synchronously, a line at a time, so whoever reads the log of a command that just ended
 * (the API, the UI on its change) finds every line, the last state's included.
 */
export class CommandLog {
  private fd: number | undefined

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    try {
      this.fd = openSync(file, 'a')
    } catch (err) {
      logger.warn({ err, file }, 'workflow log not writable')
    }
  }

  write(line: string): void {
    if (this.fd === undefined) return
    try {
      writeSync(this.fd, `${new Date(this.now()).toISOString()} ${line}\n`)
    } catch (err) {
      this.logger.warn({ err, file: this.file }, 'workflow log not writable')
      this.close()
    }
  }

  /** A built-in run may still log after this: it must not write to a descriptor reused since. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/** Keeps the newest LOGS_PER_OPERATION - 1 logs of an operation, making room for a new one. */
export function pruneCommandLogs(logsDir: string, operation: string, logger: Logger): void {
  const prefix = `workflow-${operation}-`
  try {
    const logs = readdirSync(logsDir)
      .filter((name) => name.startsWith(prefix) && name.endsWith('.log'))
      .map((name) => path.join(logsDir, name))
      .map((file) => ({ file, time: statSync(file).mtimeMs }))
      .sort((a, b) => b.time - a.time)
    for (const { file } of logs.slice(LOGS_PER_OPERATION - 1)) rmSync(file, { force: true })
  } catch (err) {
    logger.warn({ err, operation }, 'old workflow logs not pruned')
  }
}
