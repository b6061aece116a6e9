import type { MenuItemConstructorOptions } from 'electron'
import { describe, expect, it, vi } from 'vitest'
import { parseDesktopArgs } from '../../../src-main/electron/desktop-args'
import { menuTemplate } from '../../../src-main/electron/menu'

function roles(items: MenuItemConstructorOptions[]): string[] {
  return items.flatMap((item) => [
    ...(item.role ? [item.role] : []),
    ...(Array.isArray(item.submenu) ? roles(item.submenu) : []),
  ])
}

describe('menuTemplate', () => {
  const base = { platform: 'linux' as const, appName: 'EdgeTwin', onAbout: () => {}, onLogIn: () => {} }

  it('has File, View and Help with quit, reload, fullscreen and zoom', () => {
    const template = menuTemplate({ ...base, packaged: true })
    expect(template.map((item) => item.label ?? item.role)).toEqual(['File', 'View', 'help'])
    expect(roles(template)).toEqual(
      expect.arrayContaining(['quit', 'reload', 'togglefullscreen', 'resetZoom', 'zoomIn', 'zoomOut']),
    )
  })

  it('offers developer tools only when unpackaged', () => {
    expect(roles(menuTemplate({ ...base, packaged: true }))).not.toContain('toggleDevTools')
    expect(roles(menuTemplate({ ...base, packaged: false }))).toContain('toggleDevTools')
  })

  it('calls back for About', () => {
    const onAbout = vi.fn()
    const help = menuTemplate({ ...base, packaged: true, onAbout }).at(-1) as MenuItemConstructorOptions
    const about = (help.submenu as MenuItemConstructorOptions[])[0] as MenuItemConstructorOptions
    expect(about.label).toBe('About EdgeTwin')
    ;(about.click as () => void)()
    expect(onAbout).toHaveBeenCalledOnce()
  })

  it('offers a fresh login in the File menu', () => {
    const onLogIn = vi.fn()
    const file = menuTemplate({ ...base, packaged: true, onLogIn })[0] as MenuItemConstructorOptions
    const logIn = (file.submenu as MenuItemConstructorOptions[]).find((item) => item.label === 'Log In Again')
    expect(logIn).toBeDefined()
    ;(logIn as { click: () => void }).click()
    expect(onLogIn).toHaveBeenCalledOnce()
  })

  it('starts with the application menu on macOS', () => {
    expect(menuTemplate({ ...base, platform: 'darwin', packaged: true })[0]).toEqual({
      role: 'appMenu',
      label: 'EdgeTwin',
    })
  })
})

describe('parseDesktopArgs', () => {
  it('defaults to a desktop window with the simulator', () => {
    expect(parseDesktopArgs(['/opt/EdgeTwin/edgetwin'])).toEqual({ kiosk: false, sim: true })
  })

  it('reads --kiosk and --no-sim among Electron and Chromium arguments', () => {
    expect(
      parseDesktopArgs([
        '/usr/bin/electron',
        'dist/electron/main.cjs',
        '--enable-logging',
        '--kiosk',
        '--no-sim',
      ]),
    ).toEqual({ kiosk: true, sim: false })
  })
})
