import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { findElectronBinary, type RuntimeProbe, serveInvocation } from '../../../src-main/electron/launcher'

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
