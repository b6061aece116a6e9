import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { tempDir } from '../helpers/core'

const ROOT = path.resolve(import.meta.dirname, '../..')
/** Screenshots of every screen the tests visit, to look at (git-ignored). */
export const SHOTS = path.join(ROOT, 'test-results', 'screenshots')

export interface Served {
  http: string
  mqtt: string
  token: string
  /** The one-time login URL `serve` printed on stdout. */
  printedLogin: string
  dataDir: string
  child: ChildProcess
  stop(): Promise<void>
}

/**
 * `edgetwin serve` as a user runs it (the built CLI, the simulator on), on ephemeral ports and a
 * temp data dir. Resolves once the ready file is there and the login line has been printed.
 */
export async function serve(args: string[] = []): Promise<Served> {
  const dataDir = tempDir('edgetwin-e2e-')
  const readyFile = path.join(dataDir, 'ready.json')
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/edgetwin.js'),
      'serve',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--ready-file',
      readyFile,
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const deadline = Date.now() + 20_000
  let printedLogin: string | undefined
  while (!printedLogin) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`)
    if (Date.now() > deadline) throw new Error(`serve did not become ready: ${stderr}`)
    printedLogin = /one-time login link: (\S+)/.exec(stdout)?.[1]
    if (!printedLogin || !existsSync(readyFile)) {
      printedLogin = undefined
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const ready = JSON.parse(readFileSync(readyFile, 'utf8')) as { http: string; mqtt: string; token: string }
  return {
    ...ready,
    printedLogin,
    dataDir,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Debian's Chromium, headless, as this machine can run it. */
export async function browser(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true })
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

export const shot = (name: string) => path.join(SHOTS, `${name}.png`)
