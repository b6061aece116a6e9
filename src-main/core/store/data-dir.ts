import { accessSync, chmodSync, constants, existsSync, mkdirSync, statfsSync, statSync } from 'node:fs'
import path from 'node:path'

/**
 * Kernel filesystems that look like folders but hold no files (statfs f_type, linux/magic.h): a
 * data dir there can never be made, and Node's recursive mkdirSync never returns under /proc.
 */
const VIRTUAL_FILESYSTEMS: Record<number, string> = {
  40864: 'proc',
  1650812274: 'sysfs',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  1650812272: 'configfs',
  1634035564: 'pstore',
  3405662737: 'bpf',
  3730735588: 'efivarfs',
}

/**
 * Makes the data dir and its folders, owner-only; fails at once, with the reason in words, when it
 * cannot be: the nearest folder that exists is checked first (a file, a kernel filesystem, read-only).
 */
export function prepareDataDir(dataDir: string): void {
  const fail = (what: string, error?: unknown) =>
    new Error(
      `data dir ${dataDir} ${what}${error ? `: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` : ''}`,
    )
  const unusable = unusableReason(path.resolve(dataDir))
  if (unusable) throw fail(`cannot be used: ${unusable}; choose another --data-dir`)
  try {
    makeDirectory(dataDir)
    for (const sub of ['operations', 'plugins', 'files', 'logs']) makeDirectory(path.join(dataDir, sub))
    accessSync(dataDir, constants.W_OK)
  } catch (error) {
    throw fail('is not writable', error)
  }
  try {
    // Owner-only: the database, logs and configuration snapshots in it are created with the
    // default umask, so the folder is what keeps other users out.
    chmodSync(dataDir, 0o700)
  } catch (error) {
    throw fail('cannot be made private to its owner (chmod 700)', error)
  }
}

/** Why a folder cannot be (or be made) at `dir`, judged on the nearest part of it that exists. */
function unusableReason(dir: string): string | undefined {
  let existing = dir
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing)
  const stats = statSync(existing)
  if (!stats.isDirectory()) return `${existing} is a file, not a folder`
  const kind = VIRTUAL_FILESYSTEMS[statfsSync(existing).type]
  if (kind) return `${existing} is on ${kind}, a kernel filesystem that holds no files`
  try {
    accessSync(existing, constants.W_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return `${existing} is not writable (${code === 'EROFS' ? 'read-only filesystem' : 'no permission'})`
  }
  return undefined
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdirSync never returns on some paths that
 * cannot be created (under /proc), where this fails at the first level that cannot be made.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = []
  for (let current = path.resolve(dir); !existsSync(current); current = path.dirname(current)) {
    missing.unshift(current)
    if (path.dirname(current) === current) break
  }
  for (const level of missing) mkdirSync(level, { mode: 0o700 })
}
