// A stand-in for the Electron runtime, for running the bundled main process (dist/electron/main.cjs)
// in plain Node in tests: `node --require fake-electron.cjs dist/electron/main.cjs`. It records what
// the shell does and reports it to the test over Node's IPC channel; the utility process is a real
// Node child running the bundled core-process.cjs with parent-port-shim.cjs.
const { EventEmitter } = require('node:events')
const { fork } = require('node:child_process')
const Module = require('node:module')
const path = require('node:path')

const report = (event, data = {}) => process.send?.({ event, ...data })
const paths = { appData: process.env.FAKE_APP_DATA }

class App extends EventEmitter {
  isPackaged = false
  setName(name) {
    this.name = name
  }
  getPath(name) {
    return paths[name]
  }
  setPath(name, value) {
    paths[name] = value
    report('setPath', { name, value })
  }
  enableSandbox() {
    report('enableSandbox')
  }
  requestSingleInstanceLock() {
    return process.env.FAKE_LOCK !== 'taken'
  }
  whenReady() {
    return Promise.resolve()
  }
  quit() {
    report('quit')
    const event = { defaultPrevented: false, preventDefault: () => (event.defaultPrevented = true) }
    this.emit('before-quit', event)
    if (event.defaultPrevented) return
    report('exit')
    setImmediate(() => process.exit(0))
  }
}
const app = new App()

class WebContents extends EventEmitter {
  setWindowOpenHandler(handler) {
    this.openHandler = handler
  }
}

const windows = []
class BrowserWindow extends EventEmitter {
  constructor(options) {
    super()
    this.options = options
    this.webContents = new WebContents()
    windows.push(this)
    app.emit('web-contents-created', {}, this.webContents)
    report('window', { options })
  }
  async loadURL(url) {
    const response = await fetch(url, { redirect: 'manual' })
    report('loaded', {
      url,
      status: response.status,
      location: response.headers.get('location'),
      cookie: response.headers.get('set-cookie'),
    })
    this.emit('ready-to-show')
  }
  show() {
    report('show')
  }
}

const webRequest = {
  onHeadersReceived: (_filter, listener) => {
    webRequest.headers = listener
  },
  onBeforeRequest: (_filter, listener) => {
    webRequest.before = listener
  },
}
const defaultSession = {
  webRequest,
  setPermissionRequestHandler: (handler) => {
    defaultSession.request = handler
  },
  setPermissionCheckHandler: (handler) => {
    defaultSession.check = handler
  },
  setDevicePermissionHandler: (handler) => {
    defaultSession.device = handler
  },
}

function forkUtility(modulePath, args) {
  const child = fork(modulePath, args, {
    execArgv: ['--require', path.join(__dirname, 'parent-port-shim.cjs')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  report('fork', { modulePath: path.basename(modulePath), pid: child.pid })
  const utility = new EventEmitter()
  child.on('message', (message) => utility.emit('message', message))
  child.on('exit', (code) => utility.emit('exit', code ?? 1))
  utility.postMessage = (message) => child.send(message)
  utility.kill = () => child.kill()
  return utility
}

const electron = {
  app,
  BrowserWindow,
  Menu: {
    buildFromTemplate: (template) => template,
    setApplicationMenu: (menu) => report('menu', { labels: menu.map((item) => item.label ?? item.role) }),
  },
  dialog: {
    showErrorBox: (title, content) => report('errorBox', { title, content }),
    showMessageBox: async () => ({ response: 0 }),
  },
  session: { defaultSession },
  shell: { openExternal: async (url) => report('openExternal', { url }) },
  utilityProcess: { fork: forkUtility },
}

// What the test asks of the running shell: probe its policies, or quit.
process.on('message', (command) => {
  const contents = windows[0]?.webContents
  if (command.type === 'quit') app.quit()
  else if (command.type === 'probe') {
    const origin = new URL(command.url).origin
    const result = { event: 'probe' }
    const navigation = { preventDefault: () => (result.navigationBlocked = true), url: command.url }
    contents?.emit('will-frame-navigate', navigation)
    result.navigationBlocked ??= false
    result.open = contents?.openHandler({ url: command.url })
    webRequest.headers({ url: command.url, responseHeaders: { 'Content-Type': ['text/html'] } }, (answer) => {
      result.headers = answer.responseHeaders
    })
    webRequest.before?.({ url: command.url, resourceType: 'mainFrame' }, (answer) => {
      result.redirect = answer.redirectURL
    })
    defaultSession.request(contents, 'media', (granted) => {
      result.mediaGranted = granted
    })
    result.checkGranted = defaultSession.check(contents, 'notifications', origin)
    process.send(result)
  }
})

const load = Module._load
Module._load = function (request, parent, isMain) {
  if (request === 'electron') return electron
  return load.call(this, request, parent, isMain)
}
