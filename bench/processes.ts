import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'edgetwin.js')

/** Everything the bench started, so one place can undo it whatever way the run ends. */
const children = new Set<ChildProcess>()
/** Cores started under a wrapper (strace): the wrapper is the child, the core its child. */
const wrapped = new Set<number>()
const dirs = new Set<string>()
/** Other things to undo on any ending, after the children are killed (e.g. a tmpfs to unmount). */
const undos = new Set<() => void>()
/** Holds ready files, outside the data dirs so a "fresh" data dir really is empty. */
let runDir: string | undefined
let readyCount = 0

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `edgetwin-bench-${prefix}-`))
  dirs.add(dir)
  return dir
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** Kills what is still running (SIGKILL: this runs on the failure path) and removes the temp dirs. */
export function cleanupAll(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
  for (const undo of undos) {
    try {
      undo()
    } catch {
      // best effort: the next undo and the temp dirs still go
    }
  }
  undos.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
  runDir = undefined
}

/** Runs `undo` at cleanup unless the returned function is called first (the phase undid it itself). */
export function onCleanup(undo: () => void): () => void {
  undos.add(undo)
  return () => {
    undos.delete(undo)
  }
}

export interface Child {
  process: ChildProcess
  pid: number
  /** The last lines the child wrote, for error messages. */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

/** `inner` returns the pid to signal when the child is a wrapper around the real process. */
function track(child: ChildProcess, inner?: () => number | undefined): Child {
  children.add(child)
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = once(child, 'exit').then(([code]) => {
    children.delete(child)
    return code as number | null
  })
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => tail,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const signal = (name: NodeJS.Signals) => {
        const pid = inner?.()
        if (pid === undefined) child.kill(name)
        else {
          try {
            process.kill(pid, name)
          } catch {
            // already gone
          }
          if (name === 'SIGKILL') child.kill(name)
        }
      }
      signal('SIGTERM')
      const timer = setTimeout(() => signal('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
        const pid = inner?.()
        if (pid !== undefined) wrapped.delete(pid)
      }
    },
  }
}

export interface CoreReady {
  http: string
  mqtt: string
  pid: number
  token: string
}

export interface CoreChild extends Child {
  ready: CoreReady
  /** ms from spawn to the ready file appearing. */
  readyMs: number
}

export interface SpawnCoreOptions {
  /** Arguments for node itself, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
  /** A command the core runs under, e.g. `strace -f -o F`; the core's pid then comes from its ready file. */
  wrapper?: string[]
  timeoutMs?: number
  /** Run the built-in simulated line (the UI's first screen shows it); off for every other phase. */
  sim?: boolean
  /** More `serve` options, e.g. `--sync-url URL`. */
  args?: string[]
}

/** Starts `edgetwin serve` as a child process on ephemeral ports and waits for its ready file. */
export async function spawnCore(
  dataDir: string,
  { nodeArgs = [], wrapper = [], timeoutMs = 20_000, sim = false, args: extra = [] }: SpawnCoreOptions = {},
): Promise<CoreChild> {
  runDir ??= tempDir('run')
  const readyFile = path.join(runDir, `ready-${++readyCount}.json`)
  const args = [
    ...nodeArgs,
    CLI,
    'serve',
    '--data-dir',
    dataDir,
    '--host',
    '127.0.0.1',
    '--mqtt-port',
    '0',
    '--http-port',
    '0',
    ...(sim ? [] : ['--no-sim']),
    '--log-level',
    'warn',
    '--ready-file',
    readyFile,
    ...extra,
  ]
  const started = performance.now()
  let corePid: number | undefined
  const [command, ...prefix] = [...wrapper, process.execPath]
  const child = track(
    spawn(command as string, [...prefix, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
    wrapper.length ? () => corePid : undefined,
  )
  const deadline = started + timeoutMs
  // The CLI writes the ready file atomically (temp + rename), so existence means complete JSON.
  while (!existsSync(readyFile)) {
    if (child.process.exitCode !== null)
      throw new Error(`edgetwin serve exited with ${child.process.exitCode}: ${child.output()}`)
    if (performance.now() > deadline) {
      await child.stop()
      throw new Error(`edgetwin serve was not ready after ${timeoutMs} ms: ${child.output()}`)
    }
    await sleep(2)
  }
  const readyMs = performance.now() - started
  const ready = JSON.parse(readFileSync(readyFile, 'utf8')) as CoreReady
  rmSync(readyFile, { force: true })
  if (wrapper.length) {
    corePid = ready.pid
    wrapped.add(corePid)
    return { ...child, pid: corePid, ready, readyMs }
  }
  if (ready.pid !== child.pid) {
    await child.stop()
    throw new Error(`ready file pid ${ready.pid} is not the child's pid ${child.pid}`)
  }
  return { ...child, ready, readyMs }
}

/** `edgetwin <args>` for a command other than `serve` (e.g. `cloud-tail`), stopped at cleanup. */
export function spawnCli(args: string[]): Child {
  return track(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
}

/** Starts the plain aedes broker of bench/broker-child.ts in its own process; resolves with its URL. */
export async function spawnPlainBroker(timeoutMs = 20_000): Promise<Child & { url: string }> {
  const script = path.join(ROOT, 'bench', 'broker-child.ts')
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plain broker not ready: ${child.output()}`)), timeoutMs)
    let line = ''
    child.process.stdout?.on('data', (chunk: Buffer) => {
      line += chunk.toString()
      const match = /^ready (mqtt:\/\/\S+)$/m.exec(line)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] as string)
      }
    })
    child.process.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`plain broker exited with ${code}: ${child.output()}`))
    })
  }).catch(async (error) => {
    await child.stop()
    throw error
  })
  return { ...child, url }
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto'

/** Debian's mosquitto on a loopback port, anonymous, no persistence: the cloud broker of (l, m). */
export async function spawnMosquitto(port: number, timeoutMs = 10_000): Promise<Child & { url: string }> {
  const dir = tempDir('mosquitto')
  const config = path.join(dir, 'mosquitto.conf')
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false']
  // As root, mosquitto drops to the `mosquitto` user, which cannot read a root-owned 0700 temp dir.
  if (process.getuid?.() === 0) lines.push('user root')
  writeFileSync(config, `${lines.join('\n')}\n`)
  const child = track(spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] }))
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
  try {
    await waitFor(
      `mosquitto listening on ${port}`,
      async () => {
        if (child.process.exitCode !== null)
          throw new Error(`mosquitto exited with ${child.process.exitCode}: ${child.output()}`)
        return (await listening()) || undefined
      },
      timeoutMs,
      20,
    )
  } catch (error) {
    await child.stop()
    throw error
  }
  return { ...child, url: `mqtt://127.0.0.1:${port}` }
}

/** Resident set size of a process in bytes (/proc/<pid>/status), with its peak. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(match[1]) * 1024
  }
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** CPU time (user + system) a live process has used, in seconds (USER_HZ = 100 on Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces: utime is field 14.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / 100
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every `intervalMs` until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 10,
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
