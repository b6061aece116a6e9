import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FromCore, ToCore } from '../../../src-main/electron/core-protocol'
import { tempDir } from '../../helpers/core'

// The bundled entry of the core's utility process (built by `npm test` before vitest runs), run in
// plain Node with a stand-in for Electron's process.parentPort: everything but Electron is real.
const ENTRY = path.resolve(import.meta.dirname, '../../../dist/electron/core-process.cjs')
const SHIM = path.resolve(import.meta.dirname, 'parent-port-shim.cjs')
const UI_DIR = path.resolve(import.meta.dirname, '../../../dist/ui')

interface CoreProcess {
  child: ChildProcess
  next(): Promise<FromCore>
  send(message: ToCore): void
  exited: Promise<number | null>
}

const children: ChildProcess[] = []
const dirs: string[] = []

function runCore(): CoreProcess {
  const child = fork(ENTRY, [], { execArgv: ['--require', SHIM], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  children.push(child)
  const queue: FromCore[] = []
  const waiting: ((message: FromCore) => void)[] = []
  child.on('message', (message) => {
    const take = waiting.shift()
    if (take) take(message as FromCore)
    else queue.push(message as FromCore)
  })
  return {
    child,
    next: () => {
      const queued = queue.shift()
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve))
    },
    send: (message) => child.send(message),
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  }
}

function dataDir(): string {
  const dir = tempDir('edgetwin-core-process-')
  dirs.push(dir)
  return dir
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('core-process (the core in its utility process)', () => {
  it('starts the core on free ports, reports ready, serves the UI and stops cleanly on "stop"', async () => {
    const dir = dataDir()
    const core = runCore()
    core.send({ type: 'start', options: { dataDir: dir, sim: false, uiDir: UI_DIR } })
    const message = await core.next()
    if (message.type !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(message)}`)
    const { ready } = message
    expect(ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(ready.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    expect(ready.pid).toBe(core.child.pid)
    expect(ready.login.startsWith(`${ready.http}/login?code=`)).toBe(true)

    const health = await fetch(`${ready.http}/api/v1/health`)
    expect(health.status).toBe(200)
    // The desktop shell mints one login URL per window with the token it alone holds.
    const minted = await fetch(`${ready.http}/api/v1/login-codes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ready.token}` },
    })
    expect(minted.status).toBe(200)
    const { url } = (await minted.json()) as { url: string }
    expect(url).not.toBe(ready.login)
    const login = await fetch(url, { redirect: 'manual' })
    expect(login.status).toBe(303)
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/i)
    const page = await fetch(`${ready.http}/`)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")

    core.send({ type: 'stop' })
    expect(await core.exited).toBe(0)
    // A clean stop: the core's last log line says so (the data dir's lock goes with the process anyway).
    expect(readFileSync(path.join(dir, 'logs', 'edgetwin.log'), 'utf8')).toContain('"msg":"stopped"')
  })

  it('reports a start failure and still stops on "stop"', async () => {
    const dir = dataDir()
    const first = runCore()
    first.send({ type: 'start', options: { dataDir: dir, sim: false, uiDir: UI_DIR } })
    expect((await first.next()).type).toBe('ready')

    const second = runCore()
    second.send({ type: 'start', options: { dataDir: dir, sim: false, uiDir: UI_DIR } })
    const failed = await second.next()
    expect(failed).toEqual({ type: 'failed', message: expect.stringContaining('in use by another EdgeTwin') })
    second.send({ type: 'stop' })
    expect(await second.exited).toBe(0)

    first.send({ type: 'stop' })
    expect(await first.exited).toBe(0)
  })
})
