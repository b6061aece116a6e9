import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { ROOT, sleep } from './processes'

export interface Machine {
  date: string
  cpu: string
  cores: number
  memory: string
  os: string
  node: string
  sqlite: string
  packages: string
  tmpFs: string
  commit: string
}

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string
      }
    ).version
  } catch {
    return '?'
  }
}

/** File system holding os.tmpdir(), where every data dir and SQLite file of the bench lives. */
function tmpFileSystem(): string {
  try {
    const tmp = os.tmpdir()
    let best = { mount: '', type: '?', device: '?' }
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mount, type] = line.split(' ')
      if (!device || !mount || !type) continue
      if (
        (tmp === mount || tmp.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) &&
        mount.length >= best.mount.length
      ) {
        best = { mount, type, device }
      }
    }
    return `${tmp} on ${best.type} (${best.device})`
  } catch {
    return os.tmpdir()
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head} + uncommitted changes` : head
  } catch {
    return 'unknown'
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus()
  const db = new Database(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  return {
    date: new Date().toISOString(),
    cpu: `${cpus[0]?.model.trim() ?? 'unknown'}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ''}`,
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite: `${sqlite} (better-sqlite3 ${packageVersion('better-sqlite3')})`,
    packages: `aedes ${packageVersion('aedes')}, mqtt.js ${packageVersion('mqtt')}, fastify ${packageVersion('fastify')}`,
    tmpFs: tmpFileSystem(),
    commit: gitCommit(),
  }
}

/** Clock ticks (USER_HZ) of the whole machine and of the bench's own processes. */
interface CpuSnapshot {
  total: number
  busy: number
  ours: number
}

function ticksOf(stat: string, fields: number[]): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return fields.reduce((sum, field) => sum + Number(rest[field - 3]), 0)
}

/**
 * Every live process below the bench: the cores and brokers it spawned, and the browser of the UI
 * phases with its helper processes (zygote, renderers, GPU), which are grandchildren and beyond.
 */
function liveDescendants(): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
    } catch {
      // exited while listing
    }
  }
  const found: number[] = []
  const queue = [process.pid]
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const below = children.get(pid) ?? []
    found.push(...below)
    queue.push(...below)
  }
  return found
}

function cpuSnapshot(): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  // utime, stime, and cutime, cstime: children already reaped (stopped cores and brokers).
  let ours = ticksOf(readFileSync('/proc/self/stat', 'utf8'), [14, 15, 16, 17])
  // A live descendant's own reaped children are in its cutime, cstime; its live ones are listed too.
  for (const pid of liveDescendants()) {
    try {
      ours += ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'), [14, 15, 16, 17])
    } catch {
      // exited between listing and reading; its ticks arrive in cutime once reaped
    }
  }
  return { total, busy: total - idle, ours }
}

/**
 * Measures how many cores other processes (not the bench, nothing it started) keep busy while `work`
 * runs: this machine is shared, and a number taken while something else ran is worth less.
 */
export async function withForeignLoad<T>(
  work: () => Promise<T>,
): Promise<{ value: T; foreignCores: number }> {
  const before = cpuSnapshot()
  const value = await work()
  return { value, foreignCores: foreignBetween(before, cpuSnapshot()) }
}

function foreignBetween(a: CpuSnapshot, b: CpuSnapshot): number {
  const cores = os.cpus().length
  const elapsedPerCore = (b.total - a.total) / cores
  if (elapsedPerCore <= 0) return 0
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / elapsedPerCore)
}

/**
 * Waits (at most `maxMs`) for other processes to use less than `threshold` cores over a 500 ms
 * window, so timed phases start on a quiet machine when it gets quiet. Returns the last load seen.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.3): Promise<number> {
  const deadline = performance.now() + maxMs
  for (;;) {
    const before = cpuSnapshot()
    await sleep(500)
    const load = foreignBetween(before, cpuSnapshot())
    if (load < threshold || performance.now() > deadline) return load
  }
}
