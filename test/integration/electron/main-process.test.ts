import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../../src-main/electron/window'
import { tempDir } from '../../helpers/core'

// The bundled main process (built by `npm test` before vitest runs) under a recording stand-in for
// Electron (fake-electron.cjs); the core's process, its HTTP server and the login are real.
const MAIN = path.resolve(import.meta.dirname, '../../../dist/electron/main.cjs')
const FAKE = path.resolve(import.meta.dirname, 'fake-electron.cjs')

type Report = { event: string } & Record<string, unknown>

interface Shell {
  child: ChildProcess
  reports: Report[]
  when(event: string): Promise<Report>
  exited: Promise<number | null>
}

const children: ChildProcess[] = []
const dirs: string[] = []

function runShell(args: string[], env: Record<string, string> = {}): Shell & { appData: string } {
  const appData = tempDir('edgetwin-appdata-')
  dirs.push(appData)
  const child = fork(MAIN, args, {
    execArgv: ['--require', FAKE],
    env: { ...process.env, FAKE_APP_DATA: appData, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  children.push(child)
  const reports: Report[] = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const waiting = new Map<string, (report: Report) => void>()
  child.on('message', (message) => {
    const report = message as Report
    reports.push(report)
    waiting.get(report.event)?.(report)
    waiting.delete(report.event)
  })
  return {
    child,
    appData,
    reports,
    // Fails fast, with what the shell said, if it shows an error or exits instead.
    when: (event) => {
      const seen = reports.find((report) => report.event === event)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiting.set(event, resolve)
        const fail = () => reject(new Error(`no "${event}": ${JSON.stringify(reports)}\n${stderr}`))
        waiting.set('errorBox', fail)
        if (event !== 'exit') child.once('exit', fail)
      })
    },
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('main process (bundled, under a stand-in for Electron)', () => {
  it('starts the core, logs a hardened window in with a one-time URL, and stops the core on quit', async () => {
    const shell = runShell(['--no-sim'])
    const dataDir = path.join(shell.appData, 'EdgeTwin')
    const loaded = await shell.when('loaded')

    expect(shell.reports.filter((r) => r.event === 'setPath')).toEqual([
      { event: 'setPath', name: 'userData', value: dataDir },
      { event: 'setPath', name: 'sessionData', value: path.join(dataDir, 'desktop-session') },
    ])
    expect(shell.reports.some((r) => r.event === 'enableSandbox')).toBe(true)
    expect(await shell.when('fork')).toMatchObject({ modulePath: 'core-process.cjs' })
    expect(await shell.when('menu')).toMatchObject({ labels: ['File', 'View', 'help'] })

    const { options } = await shell.when('window')
    expect(options).toMatchObject({
      show: false,
      kiosk: false,
      webPreferences: {
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        preload: path.resolve(path.dirname(MAIN), 'preload.cjs'),
      },
    })
    // The window opens the core's one-time login URL and gets an HttpOnly session cookie back.
    expect(loaded.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?code=/)
    expect(loaded).toMatchObject({ status: 303, location: '/' })
    expect(loaded.cookie).toMatch(/HttpOnly/i)
    expect(await shell.when('show')).toBeTruthy()
    expect(existsSync(path.join(dataDir, 'edgetwin.db'))).toBe(true)

    const origin = new URL(loaded.url as string).origin
    shell.child.send({ type: 'probe', url: 'https://example.com/docs' })
    expect(await shell.when('probe')).toMatchObject({
      navigationBlocked: true,
      open: { action: 'deny' },
      headers: { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
      mediaGranted: false,
      checkGranted: false,
    })
    expect(await shell.when('openExternal')).toMatchObject({ url: 'https://example.com/docs' })
    shell.reports.length = 0
    shell.child.send({ type: 'probe', url: `${origin}/#/alarms` })
    expect(await shell.when('probe')).toMatchObject({ navigationBlocked: false })

    shell.child.send({ type: 'quit' })
    expect(await shell.exited).toBe(0)
    // The core stopped cleanly before the app exited: its last log line says so.
    expect(readFileSync(path.join(dataDir, 'logs', 'edgetwin.log'), 'utf8')).toContain('"msg":"stopped"')
  })

  it('in kiosk mode opens a kiosk window, sends the UI ?kiosk=1 and opens no external links', async () => {
    const shell = runShell(['--kiosk', '--no-sim'])
    const loaded = await shell.when('loaded')
    const { options } = await shell.when('window')
    expect(options).toMatchObject({ kiosk: true, fullscreen: true })
    const origin = new URL(loaded.url as string).origin
    shell.child.send({ type: 'probe', url: `${origin}/` })
    expect(await shell.when('probe')).toMatchObject({
      redirect: `${origin}/?kiosk=1`,
      navigationBlocked: false,
    })
    shell.reports.length = 0
    shell.child.send({ type: 'probe', url: 'https://example.com/' })
    expect(await shell.when('probe')).toMatchObject({ navigationBlocked: true, open: { action: 'deny' } })
    expect(shell.reports.some((r) => r.event === 'openExternal')).toBe(false)
    shell.child.send({ type: 'quit' })
    expect(await shell.exited).toBe(0)
  })

  it('a second instance quits at once without starting a core', async () => {
    const shell = runShell([], { FAKE_LOCK: 'taken' })
    expect(await shell.exited).toBe(0)
    expect(shell.reports.map((r) => r.event)).not.toContain('fork')
    expect(shell.reports.map((r) => r.event)).toContain('quit')
  })
})
