import { describe, expect, it } from 'vitest'
import {
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  kioskRedirect,
  navigationPolicy,
  permissionDecision,
  windowOpenPolicy,
  windowOptions,
  withContentSecurityPolicy,
} from '../../../src-main/electron/window'

const APP = 'http://127.0.0.1:43123'

describe('windowOptions', () => {
  it('hardens the renderer whatever the mode', () => {
    for (const kiosk of [false, true]) {
      const { webPreferences } = windowOptions({ kiosk, preloadPath: '/app/dist/electron/preload.cjs' })
      expect(webPreferences).toMatchObject({
        preload: '/app/dist/electron/preload.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
        experimentalFeatures: false,
        devTools: false,
      })
    }
  })

  it('stays hidden until ready-to-show and has a minimum size', () => {
    const options = windowOptions({ kiosk: false, preloadPath: 'p' })
    expect(options.show).toBe(false)
    expect(options.minWidth).toBeGreaterThanOrEqual(800)
    expect(options.minHeight).toBeGreaterThanOrEqual(600)
    expect(options.kiosk).toBe(false)
    expect(options.fullscreen).toBe(false)
  })

  it('is a fullscreen kiosk window with --kiosk', () => {
    const options = windowOptions({ kiosk: true, preloadPath: 'p' })
    expect(options.kiosk).toBe(true)
    // The alarm horn may sound before anyone touches the panel; on the desktop a click comes first.
    expect(options.webPreferences?.autoplayPolicy).toBe('no-user-gesture-required')
    expect(windowOptions({ kiosk: false, preloadPath: 'p' }).webPreferences?.autoplayPolicy).toBe(
      'user-gesture-required',
    )
    expect(options.fullscreen).toBe(true)
  })

  it('allows developer tools only when asked (unpackaged runs)', () => {
    expect(windowOptions({ kiosk: false, preloadPath: 'p', devTools: true }).webPreferences?.devTools).toBe(
      true,
    )
  })
})

describe('isAppUrl', () => {
  it('accepts the core origin, any path, query or fragment', () => {
    for (const url of [
      APP,
      `${APP}/`,
      `${APP}/?kiosk=1#/entities/device%2Fmain%2F%2F`,
      `${APP}/api/v1/health`,
    ])
      expect(isAppUrl(url, APP)).toBe(true)
  })

  it('rejects another port, host or scheme', () => {
    for (const url of [
      'http://127.0.0.1:43124/',
      'http://127.0.0.1/',
      'http://localhost:43123/',
      'http://127.0.0.2:43123/',
      'https://127.0.0.1:43123/',
      'ws://127.0.0.1:43123/',
      'http://127.0.0.1:43123.evil.example/',
      'http://user@evil.example:43123/',
    ])
      expect(isAppUrl(url, APP), url).toBe(false)
  })

  it('rejects URLs without an origin of their own', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'about:blank',
      'blob:http://127.0.0.1:43123/6a1c',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
      '',
    ])
      expect(isAppUrl(url, APP), url).toBe(false)
  })

  it('matches nothing before the core is up (no origin yet)', () => {
    expect(isAppUrl(`${APP}/`, 'null')).toBe(false)
  })
})

describe('navigationPolicy', () => {
  it('loads the app in the window', () => {
    expect(navigationPolicy(`${APP}/#/alarms`, APP, false)).toEqual({ allow: true, openExternal: false })
    expect(navigationPolicy(`${APP}/#/alarms`, APP, true)).toEqual({ allow: true, openExternal: false })
  })

  it('sends other web pages to the system browser on the desktop, nowhere in kiosk mode', () => {
    expect(navigationPolicy('https://thin-edge.io/', APP, false)).toEqual({
      allow: false,
      openExternal: true,
    })
    expect(navigationPolicy('https://thin-edge.io/', APP, true)).toEqual({
      allow: false,
      openExternal: false,
    })
  })

  it('never loads nor hands out other schemes', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'smb://host/share'])
      for (const kiosk of [false, true])
        expect(navigationPolicy(url, APP, kiosk), url).toEqual({ allow: false, openExternal: false })
  })
})

describe('windowOpenPolicy', () => {
  it('never opens a window, even for the app itself', () => {
    expect(windowOpenPolicy(`${APP}/api/v1/openapi.json`, APP, false)).toEqual({
      allow: false,
      openExternal: false,
    })
  })

  it('opens external http(s) links in the system browser outside kiosk mode only', () => {
    expect(windowOpenPolicy('https://example.com/manual.pdf', APP, false).openExternal).toBe(true)
    expect(windowOpenPolicy('http://192.0.2.10/', APP, false).openExternal).toBe(true)
    expect(windowOpenPolicy('https://example.com/manual.pdf', APP, true).openExternal).toBe(false)
    expect(windowOpenPolicy('file:///tmp/x', APP, false).openExternal).toBe(false)
    expect(windowOpenPolicy('javascript:alert(1)', APP, false).openExternal).toBe(false)
  })
})

describe('permissionDecision', () => {
  it('denies every permission', () => {
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'fullscreen',
      'hid',
      'openExternal',
      'unknown',
    ])
      expect(permissionDecision(permission), permission).toBe(false)
  })
})

describe('withContentSecurityPolicy', () => {
  it('adds the policy to a response that lacks one, keeping the other headers', () => {
    const headers = withContentSecurityPolicy({ 'Content-Type': ['text/html'], 'Set-Cookie': ['a=b'] })
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Set-Cookie': ['a=b'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    })
    expect(withContentSecurityPolicy(undefined)).toEqual({
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    })
  })

  it('does not repeat a policy the core already sent, whatever the header case', () => {
    const headers = withContentSecurityPolicy({ 'content-security-policy': [CONTENT_SECURITY_POLICY] })
    expect(headers).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] })
  })

  it('keeps a different policy beside its own, so the stricter of both applies', () => {
    const loose = "default-src *; script-src * 'unsafe-inline'"
    const headers = withContentSecurityPolicy({ 'CONTENT-SECURITY-POLICY': [loose] })
    expect(Object.keys(headers)).toEqual(['Content-Security-Policy'])
    expect(headers['Content-Security-Policy']).toEqual([loose, CONTENT_SECURITY_POLICY])
  })
})

describe('kioskRedirect', () => {
  it('adds ?kiosk=1 to the app root the login redirects to', () => {
    expect(kioskRedirect(`${APP}/`, APP)).toBe(`${APP}/?kiosk=1`)
    expect(kioskRedirect(`${APP}/?theme=dark`, APP)).toBe(`${APP}/?theme=dark&kiosk=1`)
  })

  it('leaves the flagged root, other paths and other origins alone', () => {
    expect(kioskRedirect(`${APP}/?kiosk=1`, APP)).toBeUndefined()
    expect(kioskRedirect(`${APP}/login?code=abc`, APP)).toBeUndefined()
    expect(kioskRedirect(`${APP}/api/v1/health`, APP)).toBeUndefined()
    expect(kioskRedirect('http://127.0.0.1:9/', APP)).toBeUndefined()
  })
})
