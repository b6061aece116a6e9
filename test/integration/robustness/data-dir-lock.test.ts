import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { CliProcesses, kill9 } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// One core per data dir, and a restart always works after the owner died however it died: the lock
// is a kernel lock the owner's death releases, not a pid to guess about (DESIGN §3.4).

const BIN = fileURLToPath(new URL('../../../bin/edgetwin.js', import.meta.url))
const processes = new CliProcesses()
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  }
  await processes.cleanup()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = tempDir('edgetwin-lock-')
  dirs.push(dir)
  return dir
}

const serveArgs = (dir: string, readyFile: string) => [
  BIN,
  'serve',
  '--data-dir',
  dir,
  '--mqtt-port',
  '0',
  '--http-port',
  '0',
  '--no-sim',
  '--ready-file',
  readyFile,
]

/** Runs `command` (the core, wrapped), and waits for the core's ready file. */
async function started(command: string, args: string[], readyFile: string): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  await vi.waitFor(
    () => {
      if (!existsSync(readyFile)) throw new Error(`not ready; stderr: ${stderr}`)
    },
    { timeout: 15_000, interval: 25 },
  )
  return child
}

/** Starts a second core on `dir` through the real CLI and stops it: proves the dir is free. */
async function startsAgain(dir: string): Promise<void> {
  const core = await processes.serve(dir)
  core.child.kill('SIGTERM')
  expect((await core.exited).code).toBe(0)
}

describe('the data-dir lock', () => {
  it('refuses a second live core with the owner named, and is free again after kill -9', async () => {
    const dir = dataDir()
    const first = await processes.serve(dir)
    const second = processes.run([
      'serve',
      '--data-dir',
      dir,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--no-sim',
    ])
    expect((await second.exited).code).toBe(1)
    expect(second.stderr()).toBe(
      `edgetwin: data dir ${dir} is in use by another EdgeTwin (pid ${first.ready.pid})\n`,
    )
    await kill9(first)
    await startsAgain(dir)
  })

  it('is free again while the killed owner is a zombie its parent has not reaped', async () => {
    const dir = dataDir()
    const readyFile = path.join(dir, 'ready.json')
    // A parent that forks the core and never waits for it: once killed, the core stays a zombie.
    const parent = await started(
      '/usr/bin/python3',
      [
        '-c',
        'import os, sys, time\npid = os.fork()\nif pid == 0: os.execv(sys.argv[1], sys.argv[1:])\nprint(pid, flush=True)\ntime.sleep(600)',
        process.execPath,
        ...serveArgs(dir, readyFile),
      ],
      readyFile,
    )
    const core = (JSON.parse(readFileSync(readyFile, 'utf8')) as { pid: number }).pid
    process.kill(core, 'SIGKILL')
    await vi.waitFor(() => expect(readFileSync(`/proc/${core}/stat`, 'utf8').split(' ')[2]).toBe('Z'))
    await startsAgain(dir)
    expect(readFileSync(`/proc/${core}/stat`, 'utf8').split(' ')[2]).toBe('Z')
    parent.kill('SIGKILL')
  })

  it('is not held by a lock file naming a live process that is not an EdgeTwin (a recycled pid)', async () => {
    const dir = dataDir()
    // What an earlier EdgeTwin left after a power loss: its pid, now another live process's.
    writeFileSync(path.join(dir, 'edgetwin.lock'), String(process.pid))
    await startsAgain(dir)
  })

  it('is free again after kill -9 of a core that was pid 1 of its own PID namespace (a container)', async () => {
    const dir = dataDir()
    for (let round = 0; round < 2; round++) {
      const readyFile = path.join(dir, `ready-ns-${round}.json`)
      const child = await started(
        'unshare',
        ['--pid', '--fork', '--kill-child', process.execPath, ...serveArgs(dir, readyFile)],
        readyFile,
      )
      // Inside its namespace the core is pid 1, as it was the round before.
      expect((JSON.parse(readFileSync(readyFile, 'utf8')) as { pid: number }).pid).toBe(1)
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    await startsAgain(dir)
  })
})
