import { rmSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { type CliProcess, CliProcesses } from '../../helpers/cli'
import { spawnCloudTail } from '../../helpers/cloud-tail'
import { tempDir } from '../../helpers/core'

// Every long-running command stops on SIGTERM (what systemd and docker send) and on SIGINT (Ctrl-C)
// promptly and cleanly (exit 0), and a data dir that can never be made is refused at once.

const processes = new CliProcesses()
const dirs: string[] = []
afterEach(() => processes.cleanup())
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function dir(): string {
  const created = tempDir('edgetwin-cli-')
  dirs.push(created)
  return created
}

/** Signals `cli` and measures how long it takes to exit. */
async function stopWith(cli: CliProcess, signal: NodeJS.Signals) {
  const started = Date.now()
  cli.child.kill(signal)
  const exit = await cli.exited
  return { ...exit, ms: Date.now() - started }
}

/** Resolves once `cli` has printed `text` on stdout. */
function printed(cli: CliProcess, text: string): Promise<void> {
  return vi.waitFor(
    () => {
      if (!cli.stdout().includes(text)) throw new Error(`not yet: ${cli.stdout()} ${cli.stderr()}`)
    },
    { timeout: 60_000, interval: 25 },
  )
}

/**
 * Each stop is a few hundred ms on a quiet machine (the core writes its last batch and closes every
 * client); the bound leaves room for a machine shared with other test runs.
 */
const PROMPT_MS = 8000

describe('long-running commands stop on SIGTERM and SIGINT', { timeout: 120_000 }, () => {
  it('serve, sim, mqtt sub and cloud-tail exit 0 on SIGTERM; mqtt sub on SIGINT (Ctrl-C) too', async () => {
    const core = await processes.serve(dir())
    const url = core.ready.mqtt
    const sim = processes.run(['sim', '--url', url, '--seed', '1'])
    const sub = processes.run(['mqtt', 'sub', '--url', url, 'te/#'])
    const interrupted = processes.run(['mqtt', 'sub', '--url', url, 'te/#'])
    const tail = spawnCloudTail(processes, ['--url', url, '--site-id', 'signals'])
    // Each has started and done its first work: four Node processes start at once here.
    await Promise.all([
      printed(sim, 'simulating against'),
      printed(sub, '[te/'),
      printed(interrupted, '[te/'),
      tail.subscribed(60_000),
    ])

    for (const [name, cli, signal] of [
      ['sim', sim, 'SIGTERM'],
      ['mqtt sub', sub, 'SIGTERM'],
      ['mqtt sub', interrupted, 'SIGINT'],
      ['cloud-tail', tail.cli, 'SIGTERM'],
      ['serve', core, 'SIGTERM'],
    ] as const) {
      const exit = await stopWith(cli, signal)
      expect({ name, signal, code: exit.code, by: exit.signal }).toEqual({ name, signal, code: 0, by: null })
      expect(exit.ms, `${name} on ${signal}`).toBeLessThan(PROMPT_MS)
    }
    expect(sim.stdout()).toMatch(/published \d+ messages in/)
  })
})

describe('an unusable --data-dir', { timeout: 60_000 }, () => {
  const cases: Array<[string, string, RegExp]> = [
    ['under /proc', '/proc/edgetwin-nope/twin', /\/proc is on proc, a kernel filesystem that holds no files/],
    ['under /sys', '/sys/edgetwin-nope', /\/sys is on sysfs, a kernel filesystem/],
    ['under a file', '/etc/hostname/twin', /\/etc\/hostname is a file, not a folder/],
  ]
  for (const [what, dataDir, reason] of cases) {
    it(`${what} is refused at once with the reason, exit 1`, async () => {
      const started = Date.now()
      const cli = processes.run([
        'serve',
        '--data-dir',
        dataDir,
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
        '--no-sim',
      ])
      expect(await cli.exited).toEqual({ code: 1, signal: null })
      // Node's start alone takes seconds on a loaded machine; a recursive mkdir under /proc never ends.
      expect(Date.now() - started).toBeLessThan(20_000)
      expect(cli.stderr()).toMatch(new RegExp(`^edgetwin: data dir ${dataDir} cannot be used: `))
      expect(cli.stderr()).toMatch(reason)
      expect(cli.stderr()).toContain('choose another --data-dir')
    })
  }
})
