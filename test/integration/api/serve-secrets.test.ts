import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CliProcesses } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'
import { rawRequest } from '../../helpers/raw-http'

// `edgetwin serve` as started by a service manager (dist/cli.js: `npm run build:core` first):
// secrets are not left readable by other users, the token need not be on the command line, and
// an upload is streamed to disk with a configurable limit.

const cli = new CliProcesses()
const dirs: string[] = []
const dir = () => {
  const made = tempDir('edgetwin-secrets-')
  dirs.push(made)
  return made
}

afterEach(() => cli.cleanup())
afterAll(() => {
  for (const made of dirs) rmSync(made, { recursive: true, force: true })
})

const mode = (file: string) => statSync(file).mode & 0o777
/** Resident and peak memory of a process, in bytes (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

describe('secrets at rest', () => {
  it('writes the ready file owner-only and makes the data dir private, even one that existed open', async () => {
    const data = dir()
    chmodSync(data, 0o755)
    const served = await cli.serve(data)
    const ready = readdirSync(data).find((name) => name.startsWith('ready-')) as string
    expect(mode(path.join(data, ready))).toBe(0o600)
    expect(mode(data)).toBe(0o700)
    expect(mode(path.join(data, 'token'))).toBe(0o600)
    expect(JSON.parse(readFileSync(path.join(data, ready), 'utf8')).token).toBe(served.ready.token)
  })

  it('reads the token from --token-file, keeping it off the command line', async () => {
    const data = dir()
    const secrets = dir()
    const file = path.join(secrets, 'api-token')
    writeFileSync(file, 'a-token-from-a-file-0123456789\n', { mode: 0o600 })
    const served = await cli.serve(data, { args: ['--token-file', file] })
    expect(served.ready.token).toBe('a-token-from-a-file-0123456789')
    expect((await served.http('/api/v1/entities')).status).toBe(200)
    const cmdline = readFileSync(`/proc/${served.child.pid}/cmdline`, 'utf8')
    expect(cmdline).not.toContain('a-token-from-a-file')
  })

  it('refuses unusable token, host and size options with one line and exit status 2', async () => {
    const secrets = dir()
    const short = path.join(secrets, 'short')
    writeFileSync(short, 'too-short\n')
    const cases: Array<[string[], RegExp]> = [
      [['--token', 'x'.repeat(20), '--token-file', short], /cannot be used together/],
      [['--token-file', short], /at least 16 characters/],
      [['--token-file', path.join(secrets, 'missing')], /--token-file: cannot read .*ENOENT/],
      [['--allowed-hosts', 'edge.example,bad host'], /--allowed-hosts: "bad host"/],
      [['--max-upload-size', '12X'], /--max-upload-size must be a size like 500M/],
    ]
    for (const [args, message] of cases) {
      const run = cli.run([
        'serve',
        '--data-dir',
        dir(),
        '--no-sim',
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        ...args,
      ])
      expect(await run.exited, args.join(' ')).toEqual({ code: 2, signal: null })
      expect(run.stderr()).toMatch(message)
      expect(run.stderr().trim().split('\n')).toHaveLength(1)
    }
  })

  it('answers to the names given with --allowed-hosts, and to no other', async () => {
    const served = await cli.serve(dir(), { args: ['--allowed-hosts', 'edge.example,gw.local:8443'] })
    const get = (host: string) =>
      rawRequest(served.ready.http, { path: '/api/v1/health', headers: { host } }).then((a) => a.status)
    expect(await get('edge.example')).toBe(200)
    expect(await get('gw.local:8443')).toBe(200)
    expect(await get('gw.local')).toBe(403)
    expect(await get('attacker.example')).toBe(403)
  })
})

describe('uploads', () => {
  const MB = 1024 * 1024

  /** PUTs `size` bytes in 64 KiB chunks, generated as they are sent (the test holds none of it). */
  function upload(base: string, name: string, size: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let answered = false
      const req = http.request(`${base}/te/v1/files/${name}`, { method: 'PUT' }, (res) => {
        answered = true
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', (error) => {
        if (!answered) reject(error)
      })
      const chunk = Buffer.alloc(64 * 1024, 0x5a)
      let sent = 0
      const pump = () => {
        while (sent < size && !answered) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
  }

  it('streams a 1 GB upload to disk without holding it in memory, and refuses one over --max-upload-size', async () => {
    const data = dir()
    const served = await cli.serve(data, { args: ['--max-upload-size', '1G'] })
    const pid = served.child.pid as number
    await served.json('/api/v1/status')
    const idle = memory(pid).rss
    expect(await upload(served.ready.http, 'firmware.bin', 1024 * MB)).toBe(201)
    expect(statSync(path.join(data, 'files', 'firmware.bin')).size).toBe(1024 * MB)
    const grew = memory(pid).peak - idle
    expect(grew, `peak RSS grew ${Math.round(grew / MB)} MB`).toBeLessThan(64 * MB)
    rmSync(path.join(data, 'files', 'firmware.bin'))
    // Streamed without a length: refused once the limit is passed, and nothing is left behind.
    expect(await upload(served.ready.http, 'too-big.bin', 1024 * MB + 64 * 1024)).toBe(413)
    expect(readdirSync(path.join(data, 'files'))).toEqual([])
  }, 120_000)
})
