import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../helpers/core'

describe('npm start without the Electron runtime (built bin/start.js)', () => {
  const START = path.resolve(import.meta.dirname, '../../../bin/start.js')
  let child: ChildProcess | undefined
  let dir: string | undefined

  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('says the core runs headless, prints a login link that logs in, and stops cleanly', async () => {
    dir = tempDir('edgetwin-start-')
    const args = ['--kiosk', '--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--log-level', 'warn']
    // Where a developer has the runtime installed, this points the probe away from it.
    const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'no-electron') }
    const started = spawn(process.execPath, [START, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    child = started
    let stdout = ''
    let stderr = ''
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => started.once('close', (code) => resolve(code)))
    const login = await new Promise<string>((resolve, reject) => {
      started.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /one-time login link: (\S+)/.exec(stdout)
        if (match?.[1]) resolve(match[1])
      })
      started.once('close', () =>
        reject(new Error(`exited before printing a login link:\n${stdout}\n${stderr}`)),
      )
    })
    expect(stderr).toContain('the Electron desktop runtime is not installed')
    expect(stderr).toContain('--kiosk is for the desktop window')
    expect(stdout).toMatch(/is ready at http:\/\/127\.0\.0\.1:\d+/)

    const answer = await fetch(login, { redirect: 'manual' })
    expect(answer.status).toBe(303)
    const cookie = answer.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const session = await fetch(new URL('/api/v1/session', login), {
      headers: { cookie: cookie.split(';')[0] ?? '' },
    })
    expect(await session.json()).toEqual({ via: 'ui' })

    started.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
