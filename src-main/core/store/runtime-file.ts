import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * Where a running core says how to reach it, so tools on the same machine (`edgetwin mqtt pub`)
 * find its broker from the data dir alone, whatever ports it chose. Written once listening, removed
 * on stop; after a kill -9 it stays behind, which is why readers check that `pid` still runs.
 * It holds no secret (the API token stays in DATA_DIR/token).
 */
export const RUNTIME_FILE = 'running.json'

export interface RuntimeInfo {
  /** The broker the core uses: its embedded one, or the one given with --broker-url. */
  mqtt: string
  http: string
  pid: number
  version: string
  /** Epoch milliseconds. */
  startedAt: number
}

export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): void {
  const file = path.join(dataDir, RUNTIME_FILE)
  const temp = `${file}.tmp-${process.pid}`
  writeFileSync(temp, `${JSON.stringify(info)}\n`, { mode: 0o600 })
  renameSync(temp, file)
}

/** Removes the file if it is this process's (a second core refused by the lock never wrote it). */
export function removeRuntimeFile(dataDir: string): void {
  const info = readRuntimeFile(dataDir)
  try {
    if (info?.pid === process.pid) rmSync(path.join(dataDir, RUNTIME_FILE), { force: true })
  } catch {
    // Left behind, it is told apart by its pid, as after a kill -9.
  }
}

/** The file's content, or undefined when there is none or it is not one a core wrote. */
export function readRuntimeFile(dataDir: string): RuntimeInfo | undefined {
  let text: string
  try {
    text = readFileSync(path.join(dataDir, RUNTIME_FILE), 'utf8')
  } catch {
    return undefined
  }
  try {
    const info = JSON.parse(text) as Partial<RuntimeInfo>
    if (typeof info.mqtt !== 'string' || typeof info.pid !== 'number') return undefined
    return info as RuntimeInfo
  } catch {
    return undefined
  }
}
