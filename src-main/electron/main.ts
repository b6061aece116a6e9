import path from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  type Session,
  session,
  shell,
  utilityProcess,
  type WebContents,
} from 'electron'
import { version } from '../../package.json'
import type { Ready } from '../core/app'
import { type CoreChild, CoreHost } from './core-host'
import { parseDesktopArgs } from './desktop-args'
import { menuTemplate } from './menu'
import {
  kioskRedirect,
  navigationPolicy,
  permissionDecision,
  windowOpenPolicy,
  windowOptions,
  withContentSecurityPolicy,
} from './window'

/**
 * The desktop shell, kept thin (DESIGN §2): one instance, the core in a utility process, one hardened
 * window logged in with a one-time URL (it gets an HttpOnly session cookie; the API token stays in
 * this process), kiosk mode, the menu, and a quit that stops the core cleanly.
 */

const APP_NAME = 'EdgeTwin'
const args = parseDesktopArgs(process.argv)

// The same folder as `edgetwin serve`'s default data dir, whatever the executable is called
// (an unpackaged run would otherwise be named after package.json's "edgetwin" or "Electron").
app.setName(APP_NAME)
const dataDir = path.join(app.getPath('appData'), APP_NAME)
app.setPath('userData', dataDir)
// Chromium's cookies, caches and local storage go to a subfolder, beside the twin and not over it.
app.setPath('sessionData', path.join(dataDir, 'desktop-session'))
app.enableSandbox()

let ready: Ready | undefined
let mainWindow: BrowserWindow | undefined
let firstLogin: string | undefined
let quitting = false

const host = new CoreHost({
  fork: forkCore,
  stopTimeoutMs: 10_000,
  onUnexpectedExit: (code) => {
    dialog.showErrorBox(
      APP_NAME,
      `The EdgeTwin core stopped unexpectedly (exit code ${code}). Its log is in ${path.join(dataDir, 'logs')}.`,
    )
    app.quit()
  },
})

function forkCore(): CoreChild {
  const child = utilityProcess.fork(path.join(__dirname, 'core-process.cjs'), [], {
    serviceName: 'EdgeTwin core',
    stdio: 'inherit',
  })
  return {
    postMessage: (message) => child.postMessage(message),
    kill: () => child.kill(),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
  }
}

/** A fresh one-time login URL per window: each code is redeemed once, by the window that loads it. */
async function loginUrl(core: Ready): Promise<string> {
  if (firstLogin) {
    const url = firstLogin
    firstLogin = undefined
    return url
  }
  const response = await fetch(`${core.http}/api/v1/login-codes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${core.token}` },
  })
  if (!response.ok) throw new Error(`the core refused a login code (HTTP ${response.status})`)
  return ((await response.json()) as { url: string }).url
}

function appOrigin(): string {
  return ready ? new URL(ready.http).origin : 'null'
}

/** Applies the window policy (window.ts) to every web contents the app creates, dev tools included. */
function harden(contents: WebContents): void {
  const guard = (event: { preventDefault(): void }, url: string) => {
    const decision = navigationPolicy(url, appOrigin(), args.kiosk)
    if (decision.allow) return
    event.preventDefault()
    if (decision.openExternal) void shell.openExternal(url)
  }
  contents.on('will-frame-navigate', (event) => guard(event, event.url))
  contents.on('will-redirect', (event) => guard(event, event.url))
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (windowOpenPolicy(url, appOrigin(), args.kiosk).openExternal) void shell.openExternal(url)
    return { action: 'deny' }
  })
}

function hardenSession(target: Session): void {
  target.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permissionDecision(permission)),
  )
  target.setPermissionCheckHandler((_contents, permission) => permissionDecision(permission))
  target.setDevicePermissionHandler(() => false)
  target.webRequest.onHeadersReceived({ urls: ['<all_urls>'] }, (details, callback) =>
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) }),
  )
  if (args.kiosk) {
    target.webRequest.onBeforeRequest({ urls: ['<all_urls>'], types: ['mainFrame'] }, (details, callback) => {
      const redirectURL = kioskRedirect(details.url, appOrigin())
      callback(redirectURL ? { redirectURL } : {})
    })
  }
}

async function openWindow(core: Ready): Promise<void> {
  const window = new BrowserWindow(
    windowOptions({
      kiosk: args.kiosk,
      preloadPath: path.join(__dirname, 'preload.cjs'),
      devTools: !app.isPackaged,
    }),
  )
  mainWindow = window
  window.once('ready-to-show', () => window.show())
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined
  })
  // A page that fails to load still shows, with Chromium's error page, rather than an invisible window;
  // View → Reload or File → Log In Again retries, so a failed load is reported, not fatal.
  window.webContents.once('did-fail-load', () => window.show())
  const url = await loginUrl(core)
  await window.loadURL(url).catch(reportWindowError)
}

async function logInAgain(): Promise<void> {
  if (!ready) return
  if (!mainWindow) return openWindow(ready)
  await mainWindow.loadURL(await loginUrl(ready))
}

function showAbout(): void {
  void dialog.showMessageBox({
    type: 'info',
    title: `About ${APP_NAME}`,
    message: `${APP_NAME} ${version}`,
    detail: [
      'A local digital twin for industrial equipment.',
      `Core: ${ready?.http ?? 'not running'} (MQTT ${ready?.mqtt ?? '–'})`,
      `Data: ${dataDir}`,
      `Electron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node.js ${process.versions.node}`,
    ].join('\n'),
  })
}

async function onReady(): Promise<void> {
  hardenSession(session.defaultSession)
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        platform: process.platform,
        packaged: app.isPackaged,
        appName: APP_NAME,
        onAbout: showAbout,
        onLogIn: () => void logInAgain().catch(reportWindowError),
      }),
    ),
  )
  try {
    ready = await host.start({ dataDir, sim: args.sim, uiDir: path.join(__dirname, '..', 'ui') })
  } catch (error) {
    dialog.showErrorBox(`${APP_NAME} could not start`, (error as Error).message)
    app.quit()
    return
  }
  firstLogin = ready.login
  await openWindow(ready)
}

if (!app.requestSingleInstanceLock()) {
  // Another EdgeTwin runs on this data dir: it focuses its window (second-instance below).
  app.quit()
} else {
  app.on('web-contents-created', (_event, contents) => harden(contents))
  app.on('second-instance', () => {
    if (!mainWindow) {
      // macOS: the app runs on without a window; a second launch brings one back.
      if (ready && !quitting) openWindow(ready).catch(reportWindowError)
      return
    }
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.show()
    mainWindow.focus()
  })
  // macOS keeps an app without windows running; the dock icon reopens one with a fresh login.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('activate', () => {
    if (ready && !mainWindow && !quitting) openWindow(ready).catch(reportWindowError)
  })
  app.on('before-quit', (event) => {
    if (!host.running) return
    event.preventDefault()
    if (quitting) return
    quitting = true
    void host.stop().then((outcome) => {
      if (outcome === 'killed')
        process.stderr.write('edgetwin: the core did not stop in time and was killed\n')
      app.quit()
    })
  })
  app
    .whenReady()
    .then(onReady)
    .catch((error: Error) => {
      // Nothing to show without a window: say why, and quit (which stops a core that did start).
      dialog.showErrorBox(`${APP_NAME} could not start`, error.message)
      app.quit()
    })
}

function reportWindowError(error: unknown): void {
  process.stderr.write(`edgetwin: ${(error as Error).message}\n`)
}
