import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { tempDir } from './core'

const BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto'

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`)
}

export interface MosquittoTls {
  /** PEM files (see certs.ts). */
  cert: string
  key: string
  ca: string
  /** Clients must present a certificate signed by `ca` (mutual TLS). */
  requireCertificate?: boolean
}

export interface MosquittoOptions {
  /** Plain MQTT listener (default: a free port). */
  port?: number
  /** Keep sessions and queued QoS 1 messages on disk, so they survive `restart()`. */
  persistence?: boolean
  /** Adds an mqtts listener on `tlsPort`. */
  tls?: MosquittoTls
  /** Default: a free port when `tls` is given. */
  tlsPort?: number
  /** A mosquitto_passwd file; anonymous clients are then refused. */
  passwordFile?: string
  /** The config and persistence dir of an earlier broker, to start it again (default: a new temp dir). */
  dir?: string
}

export interface Mosquitto {
  url: string
  port: number
  /** With `tls`: mqtts://127.0.0.1:tlsPort. */
  tlsUrl?: string
  tlsPort?: number
  /** Holds mosquitto.conf and, with `persistence`, mosquitto.db. */
  dir: string
  /** SIGTERM (mosquitto saves its persistence db on the way out); the dir is kept for start(). */
  stop(): Promise<void>
  /** Starts it again with the same config: same ports, same persistence. */
  start(): Promise<void>
  restart(): Promise<void>
  /** stop() and remove the dir (unless it was given). */
  dispose(): Promise<void>
}

/**
 * A real Debian mosquitto on loopback, anonymous unless `passwordFile`, without persistence unless
 * asked. A number is the port (the original signature).
 */
export async function startMosquitto(options: number | MosquittoOptions = {}): Promise<Mosquitto> {
  const opts = typeof options === 'number' ? { port: options } : options
  const port = opts.port ?? (await freePort())
  const tlsPort = opts.tls ? (opts.tlsPort ?? (await freePort())) : undefined
  const ownDir = opts.dir === undefined
  const dir = opts.dir ?? tempDir('edgetwin-mosquitto-')
  const config = path.join(dir, 'mosquitto.conf')
  writeFileSync(config, configText(opts, port, tlsPort, dir))

  let child: ChildProcess | undefined
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return
    const started = spawn(BINARY, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = started
    // A test that fails before stop() must not leave a broker behind when its worker exits.
    const killOnExit = () => started.kill('SIGKILL')
    process.once('exit', killOnExit)
    started.once('exit', () => process.off('exit', killOnExit))
    let stderr = ''
    started.stderr?.on('data', (chunk) => {
      stderr += chunk
    })
    try {
      await waitForPort(port, 5000)
      if (tlsPort !== undefined) await waitForPort(tlsPort, 5000)
    } catch (error) {
      started.kill('SIGKILL')
      throw new Error(`${(error as Error).message}: ${stderr}`)
    }
  }
  const stop = async () => {
    const running = child
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://127.0.0.1:${tlsPort}`,
    tlsPort,
    dir,
    stop,
    start,
    async restart() {
      await stop()
      await start()
    },
    async dispose() {
      await stop()
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

function configText(opts: MosquittoOptions, port: number, tlsPort: number | undefined, dir: string): string {
  const lines = [`listener ${port} 127.0.0.1`]
  if (opts.tls && tlsPort !== undefined) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${opts.tls.ca}`,
      `certfile ${opts.tls.cert}`,
      `keyfile ${opts.tls.key}`,
      `require_certificate ${opts.tls.requireCertificate ? 'true' : 'false'}`,
    )
  }
  // Global settings (per_listener_settings is false): they apply to every listener.
  if (opts.passwordFile) lines.push('allow_anonymous false', `password_file ${opts.passwordFile}`)
  else lines.push('allow_anonymous true')
  if (opts.persistence) {
    // autosave_interval is in seconds: queued messages reach the disk soon even if mosquitto is killed.
    lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1')
  } else lines.push('persistence false')
  // As root, mosquitto drops to the `mosquitto` user, which cannot write to (or read certs from) a
  // root-owned 0700 temp dir.
  if (process.getuid?.() === 0) lines.push('user root')
  return `${lines.join('\n')}\n`
}
