import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
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

export interface Mosquitto {
  url: string
  port: number
  stop(): Promise<void>
}

/** A real Debian mosquitto on an ephemeral loopback port, anonymous, no persistence. */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const chosen = port ?? (await freePort())
  const dir = tempDir('edgetwin-mosquitto-')
  const config = path.join(dir, 'mosquitto.conf')
  writeFileSync(config, `listener ${chosen} 127.0.0.1\nallow_anonymous true\npersistence false\n`)
  const child: ChildProcess = spawn(BINARY, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  try {
    await waitForPort(chosen, 5000)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message}: ${stderr}`)
  }
  return {
    url: `mqtt://127.0.0.1:${chosen}`,
    port: chosen,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
