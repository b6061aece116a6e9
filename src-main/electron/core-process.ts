import { type Core, createCore } from '../core/app'
import { type CoreRunOptions, type FromCore, isToCore } from './core-protocol'

/**
 * Entry of the core's Electron utility process: the core runs here, out of the main process, so a
 * busy ingest never stalls the window and the main process stays a thin shell (DESIGN §2). It is
 * plain Node apart from `process.parentPort`, the channel to the main process.
 */
const port: Electron.ParentPort = process.parentPort
let core: Core | undefined
let starting: Promise<void> | undefined

function post(message: FromCore): void {
  port.postMessage(message)
}

async function start(options: CoreRunOptions): Promise<void> {
  if (core) return
  const instance = createCore({
    dataDir: options.dataDir,
    host: '127.0.0.1',
    // Any free ports: the window learns them from the ready message, and a second EdgeTwin (or a
    // mosquitto on 1883) on the same machine does not stop the desktop app from starting.
    httpPort: 0,
    mqttPort: 0,
    sim: options.sim,
    uiDir: options.uiDir,
  })
  try {
    const ready = await instance.start()
    core = instance
    post({ type: 'ready', ready })
  } catch (error) {
    // The process stays up: the main process shows the reason, then asks it to stop.
    post({ type: 'failed', message: (error as Error).message })
  }
}

async function stop(): Promise<void> {
  await starting
  try {
    await core?.stop()
    process.exit(0)
  } catch (error) {
    process.stderr.write(`edgetwin: error while stopping the core: ${(error as Error).message}\n`)
    process.exit(1)
  }
}

port.on('message', ({ data }) => {
  if (!isToCore(data)) return
  if (data.type === 'start') starting ??= start(data.options)
  else void stop()
})
