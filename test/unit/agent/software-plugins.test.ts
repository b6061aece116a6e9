import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  discoverPlugins,
  listSoftware,
  parseUpdateList,
  SoftwareManager,
  type SoftwareUpdateContext,
  type UpdateListEntry,
  updateSoftware,
} from '../../../src-main/core/agent/software'

// Real processes: one fixture script (test/fixtures/sm-plugins/scripted) copied under each plugin name,
// its behaviour per command written into FIXTURE_DIR by the test.
const SCRIPTED = path.resolve(import.meta.dirname, '../../fixtures/sm-plugins/scripted')

let root: string
let pluginDir: string
let stateDir: string

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-sm-'))
  pluginDir = path.join(root, 'sm-plugins')
  stateDir = path.join(root, 'state')
  mkdirSync(pluginDir)
  mkdirSync(stateDir)
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function addPlugin(name: string): void {
  copyFileSync(SCRIPTED, path.join(pluginDir, name))
  chmodSync(path.join(pluginDir, name), 0o755)
}

/** What plugin `name` does for `cmd` (and, given, only for module `module`). */
function behave(
  name: string,
  cmd: string,
  key: 'stdout' | 'stderr' | 'exit' | 'sleep',
  value: string,
  module?: string,
) {
  writeFileSync(path.join(stateDir, [name, cmd, module, key].filter(Boolean).join('.')), value)
}

function calls(): string[] {
  const file = path.join(stateDir, 'calls')
  return existsSync(file) ? readFileSync(file, 'utf8').replace(/\n$/, '').split('\n') : []
}

/** Alive and not a zombie: where PID 1 does not reap orphans (some containers) a killed child stays one. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

const options = () => ({ env: { FIXTURE_DIR: stateDir }, killGraceMs: 200 })
const load = (extra: Record<string, unknown> = {}) => discoverPlugins(pluginDir, { ...options(), ...extra })

describe('plugin discovery', () => {
  it('keeps executables whose list succeeds, named after their file, and says why the others are not plugins', async () => {
    addPlugin('beta')
    addPlugin('alpha')
    addPlugin('broken')
    behave('broken', 'list', 'exit', '1')
    behave('broken', 'list', 'stderr', 'no package manager here\n')
    writeFileSync(path.join(pluginDir, 'README'), 'not a plugin')
    mkdirSync(path.join(pluginDir, 'subdir'))

    const plugins = await load()

    expect(plugins.types()).toEqual(['alpha', 'beta'])
    expect(plugins.rejected).toEqual([
      { path: path.join(pluginDir, 'README'), reason: 'not executable' },
      {
        path: path.join(pluginDir, 'broken'),
        reason: 'does not support list operation and may not be a valid plugin: no package manager here',
      },
    ])
  })

  it('finds no plugins in a missing directory', async () => {
    const plugins = await discoverPlugins(path.join(root, 'nowhere'))
    expect(plugins.types()).toEqual([])
    expect(plugins.warnings()[0]).toContain('cannot read the plugin directory: ENOENT')
  })

  it('sends type "default" to the configured default plugin, or to the only plugin', async () => {
    addPlugin('apt')
    expect((await load()).get('default')?.type).toBe('apt')
    addPlugin('docker')
    expect((await load()).get('default')).toBeUndefined()
    expect((await load({ defaultType: 'docker' })).get('')?.type).toBe('docker')
    expect((await load({ defaultType: 'snap' })).warnings()).toContain(
      'The configured default plugin: snap not found',
    )
  })
})

describe('software list', () => {
  it('reports each plugin’s TSV list, the version optional', async () => {
    addPlugin('apt')
    addPlugin('file')
    behave('apt', 'list', 'stdout', 'nodered\t1.0.0\ncollectd\t5.12\r\n\nlibfoo\n')
    behave('file', 'list', 'stdout', 'recipe.json\t\n')

    expect(await listSoftware(await load())).toEqual({
      status: 'successful',
      currentSoftwareList: [
        {
          type: 'apt',
          modules: [
            { name: 'nodered', version: '1.0.0' },
            { name: 'collectd', version: '5.12' },
            { name: 'libfoo' },
          ],
        },
        { type: 'file', modules: [{ name: 'recipe.json' }] },
      ],
    })
  })

  it('applies include/exclude and max_packages as thin-edge.io does', async () => {
    addPlugin('apt')
    behave('apt', 'list', 'stdout', 'tedge\t1\nlibc6\t2\nlibssl\t3\nc8y-plugin\t4\nzsh\t5\n')
    const names = async (extra: Record<string, unknown>) => {
      const result = await listSoftware(await load(extra))
      return result.currentSoftwareList[0]?.modules.map((m) => m.name)
    }
    expect(await names({ exclude: '^lib' })).toEqual(['tedge', 'c8y-plugin', 'zsh'])
    // Only include: everything else is excluded.
    expect(await names({ include: '^(tedge|c8y)' })).toEqual(['tedge', 'c8y-plugin'])
    expect(await names({ include: '^libc6$', exclude: '^lib' })).toEqual([
      'tedge',
      'libc6',
      'c8y-plugin',
      'zsh',
    ])
    expect(await names({ maxPackages: 2 })).toEqual(['tedge', 'libc6'])
  })

  it('fails with the plugin’s stderr and still reports the other plugins', async () => {
    addPlugin('apt')
    addPlugin('docker')
    behave('docker', 'list', 'stdout', 'nginx\t1.21.0\n')
    const plugins = await load()
    behave('apt', 'list', 'exit', '2')
    behave('apt', 'list', 'stderr', 'Permission denied\n')

    expect(await listSoftware(plugins, { logPath: '/logs/workflow-software_list-1.log' })).toEqual({
      status: 'failed',
      reason:
        'Plugin error for "apt": Permission denied, see device log file /logs/workflow-software_list-1.log',
      currentSoftwareList: [{ type: 'docker', modules: [{ name: 'nginx', version: '1.21.0' }] }],
    })
  })

  it('reports one empty list of type "" when there is no plugin', async () => {
    expect(await listSoftware(await load())).toEqual({
      status: 'successful',
      currentSoftwareList: [{ type: '', modules: [] }],
    })
  })
})

describe('software update', () => {
  const request: UpdateListEntry[] = [
    {
      type: 'apt',
      modules: [
        { name: 'nodered', version: '1.0.0', action: 'install' },
        { name: 'collectd', version: '5.12', url: 'http://files/collectd.deb', action: 'install' },
        { name: 'mongodb', version: '4.4.6', action: 'remove' },
      ],
    },
  ]

  function downloads(): { ctx: SoftwareUpdateContext; cleaned: string[] } {
    const cleaned: string[] = []
    const ctx: SoftwareUpdateContext = {
      download: async (url, module) => {
        const file = path.join(root, `${module.name}_${module.version}`)
        writeFileSync(file, url)
        return { path: file, cleanup: async () => void cleaned.push(file) }
      },
    }
    return { ctx, cleaned }
  }

  it('runs prepare, downloads, update-list with TAB-separated lines on stdin, then finalize', async () => {
    addPlugin('apt')
    const { ctx, cleaned } = downloads()
    const downloaded = path.join(root, 'collectd_5.12')

    expect(await updateSoftware(await load(), request, ctx)).toEqual({ status: 'successful' })

    expect(calls().slice(1)).toEqual([
      'apt prepare',
      'apt update-list',
      '| install\tnodered\t1.0.0\t',
      `| install\tcollectd\t5.12\t${downloaded}`,
      '| remove\tmongodb\t4.4.6\t',
      'apt finalize',
    ])
    expect(cleaned).toEqual([downloaded])
  })

  it('falls back to install and remove per module, in request order, when update-list exits 1', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'exit', '1')
    const { ctx } = downloads()

    expect(await updateSoftware(await load(), request, ctx)).toEqual({ status: 'successful' })

    expect(calls().filter((c) => !c.startsWith('|'))).toEqual([
      'apt list',
      'apt prepare',
      'apt update-list',
      'apt install nodered --module-version 1.0.0',
      `apt install collectd --module-version 5.12 --file ${path.join(root, 'collectd_5.12')}`,
      'apt remove mongodb --module-version 4.4.6',
      'apt finalize',
    ])
  })

  it('reports each failed module with its stderr, and still applies the others and finalizes', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'exit', '1')
    behave('apt', 'install', 'exit', '2', 'nodered')
    behave('apt', 'install', 'stderr', 'E: Unable to locate package nodered\n', 'nodered')
    behave('apt', 'remove', 'exit', '3', 'mongodb')
    const { ctx } = downloads()

    const result = await updateSoftware(await load(), request, ctx)

    expect(result).toEqual({
      status: 'failed',
      reason:
        'Failed to install "nodered" version "1.0.0": E: Unable to locate package nodered, ' +
        'Failed to uninstall "mongodb" version "4.4.6": apt remove exited with 3 (retry)',
      failures: [
        {
          type: 'apt',
          modules: [
            {
              name: 'nodered',
              version: '1.0.0',
              action: 'install',
              reason: 'E: Unable to locate package nodered',
            },
            {
              name: 'mongodb',
              version: '4.4.6',
              action: 'remove',
              reason: 'apt remove exited with 3 (retry)',
            },
          ],
        },
      ],
    })
    expect(calls()).toContain(
      `apt install collectd --module-version 5.12 --file ${path.join(root, 'collectd_5.12')}`,
    )
    expect(calls().at(-1)).toBe('apt finalize')
  })

  it('cancels the type’s updates without finalize when prepare fails', async () => {
    addPlugin('apt')
    behave('apt', 'prepare', 'exit', '2')
    behave('apt', 'prepare', 'stderr', 'dpkg was interrupted\n')

    expect(await updateSoftware(await load(), request, downloads().ctx)).toEqual({
      status: 'failed',
      reason: 'Failed to prepare updates for "apt": dpkg was interrupted',
      failures: [{ type: 'apt', modules: [] }],
    })
    expect(calls()).toEqual(['apt list', 'apt prepare'])
  })

  it('fails the type when update-list exits 2, and when finalize fails', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'exit', '2')
    behave('apt', 'update-list', 'stderr', 'dependency problem\n')
    behave('apt', 'finalize', 'exit', '4')

    expect(await updateSoftware(await load(), request, downloads().ctx)).toEqual({
      status: 'failed',
      reason:
        'Failed to execute updates for "apt": dependency problem, ' +
        'Failed to finalize updates for "apt": apt finalize exited with 4 (timeout)',
      failures: [{ type: 'apt', modules: [] }],
    })
    expect(calls().some((c) => c.startsWith('apt install'))).toBe(false)
  })

  it('skips the updates but finalizes when a download fails', async () => {
    addPlugin('apt')
    const result = await updateSoftware(await load(), request, {
      download: async () => {
        throw new Error('404 Not Found')
      },
    })
    expect(result).toEqual({
      status: 'failed',
      reason: 'Download error: 404 Not Found for "http://files/collectd.deb"',
      failures: [
        {
          type: 'apt',
          modules: [
            {
              name: 'collectd',
              version: '5.12',
              url: 'http://files/collectd.deb',
              action: 'install',
              reason: 'Download error: 404 Not Found for "http://files/collectd.deb"',
            },
          ],
        },
      ],
    })
    expect(calls()).toEqual(['apt list', 'apt prepare', 'apt finalize'])
  })

  it('fails the modules of an unknown type, applies the known ones, and counts failing types', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'exit', '2')
    const result = await updateSoftware(
      await load(),
      [
        { type: 'docker', modules: [{ name: 'nginx', version: '1.21.0', action: 'install' }] },
        { type: 'apt', modules: [{ name: 'nodered', action: 'install' }] },
      ],
      { logPath: '/data/logs/workflow-software_update-42.log' },
    )
    expect(result).toEqual({
      status: 'failed',
      reason: '2 errors, see device log file /data/logs/workflow-software_update-42.log',
      failures: [
        {
          type: 'docker',
          modules: [
            {
              name: 'nginx',
              version: '1.21.0',
              action: 'install',
              reason: 'Unknown software type: "docker"',
            },
          ],
        },
        { type: 'apt', modules: [] },
      ],
    })
  })

  it('sends modules of type "default" to the only plugin', async () => {
    addPlugin('file')
    const result = await updateSoftware(await load(), [
      { type: 'default', modules: [{ name: 'a', action: 'remove' }] },
    ])
    expect(result).toEqual({ status: 'successful' })
    expect(calls()).toContain('file update-list')
  })

  it('logs every command line with its exit status, stderr and stdout', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'exit', '1')
    behave('apt', 'install', 'exit', '2')
    behave('apt', 'install', 'stderr', 'E: broken\n')
    behave('apt', 'install', 'stdout', 'Reading package lists...\n')
    const lines: string[] = []
    await updateSoftware(await load(), [{ type: 'apt', modules: [{ name: 'nodered', action: 'install' }] }], {
      log: (line) => lines.push(line),
    })
    const plugin = path.join(pluginDir, 'apt')
    expect(lines).toContain(`----- $ ${plugin} "prepare"`)
    expect(lines).toContain('The update-list command is not supported by this: apt plugin')
    const install = lines.indexOf(`----- $ ${plugin} "install" "nodered"`)
    expect(lines.slice(install, install + 9)).toEqual([
      `----- $ ${plugin} "install" "nodered"`,
      'Exit status: 2 (ERROR)',
      '',
      'stderr <<EOF',
      'E: broken',
      'EOF',
      '',
      'stdout <<EOF',
      'Reading package lists...',
    ])
  })
})

describe('killing plugin calls', () => {
  it('kills a call that runs past its timeout, with whatever it started', async () => {
    addPlugin('apt')
    behave('apt', 'prepare', 'sleep', '30')
    const plugins = await load({ timeoutMs: 1000 })
    const started = Date.now()

    const result = await updateSoftware(plugins, [
      { type: 'apt', modules: [{ name: 'x', action: 'install' }] },
    ])

    expect(Date.now() - started).toBeLessThan(5000)
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'Failed to prepare updates for "apt": operation failed due to timeout: duration=1s',
    })
    const sleeper = Number(readFileSync(path.join(stateDir, 'apt.prepare.pid'), 'utf8'))
    await vi.waitFor(() => expect(isRunning(sleeper)).toBe(false))
  })

  it('stops at once and rejects when the caller aborts', async () => {
    addPlugin('apt')
    behave('apt', 'update-list', 'sleep', '30')
    const manager = new SoftwareManager({ pluginDir, ...options() })
    const controller = new AbortController()
    const pidFile = path.join(stateDir, 'apt.update-list.pid')

    const update = manager.update([{ type: 'apt', modules: [{ name: 'x', action: 'install' }] }], {
      signal: controller.signal,
    })
    await vi.waitFor(() => expect(existsSync(pidFile)).toBe(true))
    controller.abort(new Error('agent stopping'))

    await expect(update).rejects.toThrow('agent stopping')
    const sleeper = Number(readFileSync(pidFile, 'utf8'))
    await vi.waitFor(() => expect(isRunning(sleeper)).toBe(false))
    expect(calls().at(-1)).toBe('| install\tx\t\t')
  })
})

describe('parseUpdateList', () => {
  it('keeps type, name, version, url and action, and drops empty version and url', () => {
    expect(
      parseUpdateList([
        { type: 'apt', modules: [{ name: 'a', version: '', url: '', action: 'install', extra: 1 }] },
        { modules: [{ name: 'b', version: '2', action: 'remove' }] },
      ]),
    ).toEqual([
      { type: 'apt', modules: [{ name: 'a', action: 'install' }] },
      { type: '', modules: [{ name: 'b', version: '2', action: 'remove' }] },
    ])
  })

  it('says what is wrong', () => {
    expect(() => parseUpdateList({})).toThrow('updateList must be an array')
    expect(() => parseUpdateList([{ type: 'apt', modules: [{ name: 'a', action: 'upgrade' }] }])).toThrow(
      'updateList[0].modules[0].action must be "install" or "remove"',
    )
    expect(() => parseUpdateList([{ type: 'apt', modules: [{ action: 'install' }] }])).toThrow(
      'updateList[0].modules[0].name must be a non-empty string',
    )
  })
})
