import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { LogFileEntry } from './log-plugin-config'

// log_upload's content for one log type, as thin-edge.io's file log plugin produces it
// (plugins/tedge_file_log_plugin/src/log_utils.rs) and tedge-agent then filters it
// (tedge_log_manager/src/plugin.rs `get`).

export interface LogRequest {
  dateFrom: Date
  /** Used for lines that carry their time; files are chosen by dateFrom alone (see lineTime). */
  dateTo: Date
  /** Keep only the lines that contain this text (an empty text keeps all). */
  searchText?: string
  /** Keep the last N lines; 0 keeps all (thin-edge.io's ring buffer never fills at 0). */
  lines: number
  /** Why a file must not be read: the whole request then fails with that reason. */
  check?: (file: string) => Promise<string | undefined>
}

export class LogFileNotFoundError extends Error {
  constructor(readonly logType: string) {
    // The wording of thin-edge.io's docs (tedge-log-management.md); its file plugin says
    // `No logs found for log type "<type>"`.
    super(`The target log file for '${logType}' does not exist.`)
  }
}

interface Candidate {
  file: string
  mtimeMs: number
  /** Matched through a `*`: only then does the date filter apply (log_utils.rs `filter_logs_by_date`). */
  wildcard: boolean
}

/**
 * The text to upload for the entries of one log type. The files (each path or glob expanded) are
 * taken newest first by modification time; a file matched through a `*` counts only if modified
 * at or after `dateFrom`, a plain path always. Each non-empty file contributes a
 * `filename: <name>` line then its lines; of all those lines, those containing `searchText` are
 * kept, and of these the last `lines` (so with several files, the oldest file's end: thin-edge.io's
 * order). Every line ends with a newline.
 */
export async function collectLog(
  entries: LogFileEntry | readonly LogFileEntry[],
  request: LogRequest,
): Promise<string> {
  const list: readonly LogFileEntry[] = Array.isArray(entries) ? entries : [entries as LogFileEntry]
  const type = list[0]?.type ?? ''
  const from = request.dateFrom.getTime()
  if (Number.isNaN(from)) throw new Error('dateFrom is not a valid date')

  const found = await candidates(list)
  for (const { file } of found) {
    const problem = await request.check?.(file)
    if (problem) throw new Error(problem)
  }
  const files = found.sort((a, b) => b.mtimeMs - a.mtimeMs).filter((c) => !c.wildcard || c.mtimeMs >= from)
  if (files.length === 0) throw new LogFileNotFoundError(type)

  const kept = new LastLines(request.lines)
  const search = request.searchText ?? ''
  const to = Number.isNaN(request.dateTo.getTime()) ? Number.POSITIVE_INFINITY : request.dateTo.getTime()
  const keep = (line: string) => {
    if (search === '' || line.includes(search)) kept.push(line)
  }
  for (const { file } of files) {
    const info = await stat(file)
    // An empty file adds nothing, not even its name (log_utils.rs `read_log_content`).
    if (info.size === 0) continue
    keep(`filename: ${path.basename(file)}`)
    // Beyond thin-edge.io, which only picks files by date: a line that starts with its time is kept
    // only within [dateFrom, dateTo], and the lines after it without a time (a stack trace, say)
    // go with it.
    let inRange = true
    const reader = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
    for await (const line of reader) {
      const time = lineTime(line)
      if (time !== undefined) inRange = time >= from && time <= to
      if (inRange) keep(line)
    }
  }
  const lines = kept.toArray()
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

const ISO_START = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/
const JSON_TIME = /^\{.{0,80}?"time":\s*(\d{10,13}(?:\.\d+)?)/

/**
 * When a log line happened, if it says so at its start: an ISO 8601 time (syslog-ng, EdgeTwin's
 * workflow logs; local time when no zone is given) or a JSON line's `time` in epoch ms or s (pino,
 * EdgeTwin's own log).
 */
export function lineTime(line: string): number | undefined {
  const iso = ISO_START.exec(line)
  if (iso) {
    const time = Date.parse((iso[1] as string).replace(' ', 'T').replace(',', '.'))
    return Number.isNaN(time) ? undefined : time
  }
  const json = JSON_TIME.exec(line)
  if (json) {
    const value = Number(json[1])
    return value < 1e11 ? value * 1000 : value
  }
  return undefined
}

async function candidates(entries: readonly LogFileEntry[]): Promise<Candidate[]> {
  const seen = new Set<string>()
  const found: Candidate[] = []
  for (const entry of entries) {
    const wildcard = entry.path.includes('*')
    for (const file of await expandGlob(entry.path)) {
      if (seen.has(file)) continue
      seen.add(file)
      // A file whose time cannot be read counts as from 1970 (log_utils.rs `get_modification_date`).
      const mtimeMs = await stat(file).then(
        (s) => s.mtimeMs,
        () => 0,
      )
      found.push({ file, mtimeMs, wildcard })
    }
  }
  return found
}

const WILDCARD = /[*?]/

/**
 * The regular files a path matches, sorted by name within each directory. `*` matches any run of
 * characters and `?` one character, within one path segment (dot files included, as the glob
 * crate's defaults); a path without either is itself, if it is a file.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!WILDCARD.test(pattern)) return (await isFile(pattern)) ? [pattern] : []
  const absolute = path.resolve(pattern)
  const { root } = path.parse(absolute)
  const segments = absolute
    .slice(root.length)
    .split(path.sep)
    .filter((s) => s !== '')
  let matches = [root]
  for (const segment of segments) {
    const next: string[] = []
    const re = WILDCARD.test(segment) ? segmentRegExp(segment) : undefined
    for (const dir of matches) {
      if (!re) {
        next.push(path.join(dir, segment))
        continue
      }
      const names = await readdir(dir).catch(() => [] as string[])
      for (const name of names.sort()) if (re.test(name)) next.push(path.join(dir, name))
    }
    matches = next
  }
  const files: string[] = []
  for (const match of matches) if (await isFile(match)) files.push(match)
  return files
}

function segmentRegExp(segment: string): RegExp {
  const body = segment
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('')
  return new RegExp(`^${body}$`, 's')
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  )
}

/** The last `limit` items pushed (all of them when limit is 0), without shifting an array per line. */
class LastLines {
  private readonly items: string[] = []
  private start = 0

  constructor(private readonly limit: number) {}

  push(line: string): void {
    if (this.limit <= 0 || this.items.length < this.limit) {
      this.items.push(line)
      return
    }
    this.items[this.start] = line
    this.start = (this.start + 1) % this.limit
  }

  toArray(): string[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)]
  }
}
