import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { vi } from 'vitest'
import { launchChromium } from '../helpers/chromium'
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

export interface ServeOptions {
  /** An existing data dir (a restart); it is then left for its owner to remove. */
  dataDir?: string
  /** Fixed ports (a restart on the same URLs); 0 = any free port. */
  httpPort?: number
  mqttPort?: number
}

/**
 * `edgetwin serve` as a user runs it (the built CLI, the simulator on), on ephemeral ports and a
 * temp data dir unless told otherwise. Resolves once the ready file is there and the login line
 * has been printed.
 */
export async function serve(args: string[] = [], options: ServeOptions = {}): Promise<Served> {
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? tempDir('edgetwin-e2e-')
  const readyFile = path.join(dataDir, 'ready.json')
  // A previous run on this data dir left its ready file: wait for this run's.
  rmSync(readyFile, { force: true })
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/edgetwin.js'),
      'serve',
      '--data-dir',
      dataDir,
      '--http-port',
      String(options.httpPort ?? 0),
      '--mqtt-port',
      String(options.mqttPort ?? 0),
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
      if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** The port of a URL the core printed, to start it again on the same one. */
export const portOf = (url: string) => Number(new URL(url).port)

/** A new one-time login URL, as the desktop shell asks for one (the printed one is good once). */
export async function loginUrl(served: Served): Promise<string> {
  const response = await fetch(new URL('/api/v1/login-codes', served.http), {
    method: 'POST',
    headers: { authorization: `Bearer ${served.token}` },
  })
  if (!response.ok) throw new Error(`POST /api/v1/login-codes: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { url: string }).url
}

/**
 * A fresh browser context logged in through a new login URL, on the overview once the line's
 * devices show live values.
 */
export async function loggedIn(
  chrome: Browser,
  served: Served,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chrome.newContext({ viewport: { width: 1280, height: 800 }, ...options })
  // Below the test timeout, so a missing element fails with its own message.
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  await page.goto(await loginUrl(served))
  await overviewIsLive(page)
  return { context, page }
}

/**
 * Waits until the overview is live and shows the line's seven device cards, each card on screen
 * with a value (cards far off screen render their values only when scrolled to).
 */
export async function overviewIsLive(page: Page): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Filling Line 3' }).waitFor()
  await connection(page).filter({ hasText: 'Live' }).waitFor()
  const cards = page.getByRole('main').getByRole('article')
  await vi.waitFor(
    async () => {
      const { total, shown, withValues } = await cards.evaluateAll((articles) => {
        const bodies = articles.filter((card) => card.querySelector('dd'))
        return {
          total: articles.length,
          shown: bodies.length,
          withValues: bodies.filter((card) => /\d/.test(card.querySelector('dd')?.textContent ?? '')).length,
        }
      })
      if (total < 7 || shown === 0 || withValues < shown)
        throw new Error(`${withValues} of ${shown} device cards on screen show a value (${total} cards)`)
    },
    { timeout: 20_000, interval: 100 },
  )
}

/** The top bar's connection state: Live, Connecting…, Reconnecting… or Offline. */
export const connection = (page: Page) => page.getByRole('banner').getByRole('status')

/** Debian's Chromium, headless, as this machine can run it. */
export async function browser(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true })
  return launchChromium()
}

export const shot = (name: string) => path.join(SHOTS, `${name}.png`)
