import type { BrowserWindowConstructorOptions } from 'electron'
import { CONTENT_SECURITY_POLICY } from '../core/api/content-security-policy'

/**
 * The policy of the desktop window as plain functions, so it is tested in plain Node: this file only
 * imports Electron's types, main.ts applies the decisions.
 */

// The core sends this policy with every response; the shell adds it as well, so a response that
// lacked it (a bug, an error page) is still covered.
export { CONTENT_SECURITY_POLICY }

export interface WindowSettings {
  kiosk: boolean
  /** Absolute path of the bundled preload script. */
  preloadPath: string
  /** Developer tools are for unpackaged runs only. */
  devTools?: boolean
}

export function windowOptions({
  kiosk,
  preloadPath,
  devTools = false,
}: WindowSettings): BrowserWindowConstructorOptions {
  return {
    title: 'EdgeTwin',
    width: 1280,
    height: 800,
    // The denser desktop layout still fits a small laptop screen at this size.
    minWidth: 800,
    minHeight: 600,
    // Shown on ready-to-show, so the window never flashes an empty frame.
    show: false,
    backgroundColor: '#111418',
    kiosk,
    fullscreen: kiosk,
    autoHideMenuBar: kiosk,
    webPreferences: {
      preload: preloadPath,
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
      navigateOnDragDrop: false,
      safeDialogs: true,
      // The kiosk's alarm horn sounds on an unattended panel, before anyone has touched it.
      autoplayPolicy: kiosk ? 'no-user-gesture-required' : 'user-gesture-required',
      devTools,
    },
  }
}

/** The origin (scheme, host and port) of a URL, or undefined for URLs without one (`data:`, `about:`, junk). */
export function originOf(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined
  return parsed.origin
}

/** Whether a URL belongs to the core's own origin: scheme, host and port exactly. */
export function isAppUrl(url: string, appOrigin: string): boolean {
  const origin = originOf(url)
  return origin !== undefined && origin === originOf(appOrigin)
}

function isWebUrl(url: string): boolean {
  return originOf(url) !== undefined
}

export interface LinkDecision {
  /** Let the window load the URL itself. */
  allow: boolean
  /** Hand the URL to the system browser (shell.openExternal) instead. */
  openExternal: boolean
}

/**
 * A navigation of the window (a link, a redirect, `location = …`): only the core's origin loads in
 * the window. Outside kiosk mode, an http(s) link elsewhere (documentation, a device's own web page)
 * opens in the system browser, where it has none of the app's session; in kiosk mode it goes nowhere,
 * because the kiosk is locked to the app. Other schemes (`file:`, `javascript:`, `data:`, custom
 * protocol handlers) are never loaded nor handed to the OS.
 */
export function navigationPolicy(url: string, appOrigin: string, kiosk: boolean): LinkDecision {
  if (isAppUrl(url, appOrigin)) return { allow: true, openExternal: false }
  return { allow: false, openExternal: !kiosk && isWebUrl(url) }
}

/**
 * `window.open` and `target="_blank"`: the app is one window, so no new window is ever created.
 * An external http(s) link goes to the system browser outside kiosk mode, as for navigation; a link to
 * the app itself is dropped (the system browser would not have the session cookie anyway).
 */
export function windowOpenPolicy(url: string, appOrigin: string, kiosk: boolean): LinkDecision {
  return { allow: false, openExternal: !kiosk && !isAppUrl(url, appOrigin) && isWebUrl(url) }
}

/**
 * Permission requests and checks (camera, microphone, notifications, geolocation, clipboard read,
 * HID/USB/serial, fullscreen API, …): the twin needs none, so all are denied.
 */
export function permissionDecision(_permission: string): boolean {
  return false
}

const CSP_HEADER = 'content-security-policy'

/**
 * Response headers with the shell's Content-Security-Policy added. A policy the response already has
 * is kept: the browser enforces every policy it receives, so adding ours can only narrow what is
 * allowed, never widen it.
 */
export function withContentSecurityPolicy(
  headers: Record<string, string[]> | undefined,
  policy: string = CONTENT_SECURITY_POLICY,
): Record<string, string[]> {
  const result: Record<string, string[]> = {}
  const policies: string[] = []
  for (const [name, values] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === CSP_HEADER) policies.push(...values)
    else result[name] = values
  }
  if (!policies.includes(policy)) policies.push(policy)
  result['Content-Security-Policy'] = policies
  return result
}

/**
 * In kiosk mode the UI is told so by `?kiosk=1` on its page (src-renderer reads it at start). The core
 * logs the window in with a redirect to `/`, so the shell rewrites a top-level load of the app's root
 * to carry the flag; any other URL is left alone (undefined).
 */
export function kioskRedirect(url: string, appOrigin: string): string | undefined {
  if (!isAppUrl(url, appOrigin)) return undefined
  const parsed = new URL(url)
  if (parsed.pathname !== '/' || parsed.searchParams.get('kiosk') === '1') return undefined
  parsed.searchParams.set('kiosk', '1')
  return parsed.toString()
}
