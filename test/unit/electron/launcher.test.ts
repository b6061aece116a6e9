import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findElectronBinary, type RuntimeProbe, serveInvocation } from '../../../src-main/electron/launcher'
import { tempDir } from '../../helpers/core'

const ELECTRON = '/repo/node_modules/electron'

function probe(files: Record<string, string>, overrides: Partial<RuntimeProbe> = {}): RuntimeProbe {
  return {
    electronDir: ELECTRON,
    platform: 'linux',
    env: {},
    exists: (file) => file in files,
    readFile: (file) => files[file],
    ...overrides,
  }
}

describe('findElectronBinary', () => {
  it('finds the runtime the electron package unpacked', () => {
    const files = { [`${ELECTRON}/path.txt`]: 'electron', [`${ELECTRON}/dist/electron`]: '' }
    expect(findElectronBinary(probe(files))).toBe(`${ELECTRON}/dist/electron`)
  })

  it('reports no runtime when its install script did not run (no path.txt, no dist)', () => {
    expect(findElectronBinary(probe({}))).toBeUndefined()
  })

  it('reports no runtime when path.txt points at a binary that is not there', () => {
    expect(findElectronBinary(probe({ [`${ELECTRON}/path.txt`]: 'electron' }))).toBeUndefined()
  })

  it('reports no runtime when the electron package is not installed (production install)', () => {
    expect(findElectronBinary(probe({}, { electronDir: undefined }))).toBeUndefined()
  })

  it('uses the platform executable name when path.txt is missing', () => {
    const mac = `${ELECTRON}/dist/Electron.app/Contents/MacOS/Electron`
    expect(findElectronBinary(probe({ [mac]: '' }, { platform: 'darwin' }))).toBe(mac)
    const win = path.join(ELECTRON, 'dist', 'electron.exe')
    expect(findElectronBinary(probe({ [win]: '' }, { platform: 'win32' }))).toBe(win)
  })

  it('honours ELECTRON_OVERRIDE_DIST_PATH as the electron package does', () => {
    const files = { [`${ELECTRON}/path.txt`]: 'electron\n', '/opt/electron-45/electron': '' }
    const env = { ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron-45' }
    expect(findElectronBinary(probe(files, { env }))).toBe('/opt/electron-45/electron')
    expect(
      findElectronBinary(probe({}, { env: { ELECTRON_OVERRIDE_DIST_PATH: '/nowhere' } })),
    ).toBeUndefined()
  })
})

describe('serveInvocation', () => {
  it('passes the core options through and drops the window-only --kiosk', () => {
    expect(serveInvocation(['--kiosk', '--no-sim', '--http-port', '0'])).toEqual({
      serve: ['--no-sim', '--http-port', '0'],
      ignored: ['--kiosk'],
    })
    expect(serveInvocation([])).toEqual({ serve: [], ignored: [] })
  })
})

describe('npm start without the Electron runtime (built bin/start.js)', () => {
  const START = path.resolve(import.meta.dirname, '../../../bin/start.js')
  let child: ChildProcess | undefined
  let dir: string | undefined

  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('says the core runs headless, prints a login link that logs in, and stops cleanly', async () => {
    dir = tempDir('edgetwin-start-')
    const args = ['--kiosk', '--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--log-level', 'warn']
    // Where a developer has the runtime installed, this points the probe away from it.
    const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'no-electron') }
    const started = spawn(process.execPath, [START, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    child = started
    let stdout = ''
    let stderr = ''
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => started.once('close', (code) => resolve(code)))
    const login = await new Promise<string>((resolve, reject) => {
      started.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /one-time login link: (\S+)/.exec(stdout)
        if (match?.[1]) resolve(match[1])
      })
      started.once('close', () =>
        reject(new Error(`exited before printing a login link:\n${stdout}\n${stderr}`)),
      )
    })
    expect(stderr).toContain('the Electron desktop runtime is not installed')
    expect(stderr).toContain('--kiosk is for the desktop window')
    expect(stdout).toMatch(/is ready at http:\/\/127\.0\.0\.1:\d+/)

    const answer = await fetch(login, { redirect: 'manual' })
    expect(answer.status).toBe(303)
    const cookie = answer.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const session = await fetch(new URL('/api/v1/session', login), {
      headers: { cookie: cookie.split(';')[0] ?? '' },
    })
    expect(await session.json()).toEqual({ via: 'ui' })

    started.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
