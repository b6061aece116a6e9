import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_CONFIG_BYTES,
  DEFAULT_MAX_DOWNLOAD_BYTES,
  parseAgentSettings,
} from '../../../src-main/core/agent/agent-settings'
import { managedPaths } from '../../../src-main/core/agent/managed-paths'
import { formatSize, parseSize } from '../../../src-main/core/config/size'

describe('the agent settings in system.toml', () => {
  it('defaults to no extra roots, agent files protected, 4 GiB downloads and 16 MiB configurations', () => {
    expect(parseAgentSettings('')).toEqual({
      settings: {
        managedRoots: [],
        allowAgentFileUpdate: false,
        maxDownloadBytes: DEFAULT_MAX_DOWNLOAD_BYTES,
        maxConfigBytes: DEFAULT_MAX_CONFIG_BYTES,
      },
      warnings: [],
    })
    expect(formatSize(DEFAULT_MAX_DOWNLOAD_BYTES)).toBe('4 GiB')
    expect(formatSize(DEFAULT_MAX_CONFIG_BYTES)).toBe('16 MiB')
  })

  it('reads [agent] beside [system]', () => {
    const { settings, warnings } = parseAgentSettings(
      [
        '[system]',
        'reboot = ["sudo", "reboot"]',
        '[agent]',
        'managed_roots = ["/etc/line", "/var/log/line/"]',
        'allow_agent_file_update = true',
        'max_download_size = "512 MiB"',
        'max_config_size = 1_048_576',
      ].join('\n'),
    )
    expect(warnings).toEqual([])
    expect(settings).toEqual({
      reboot: ['sudo', 'reboot'],
      managedRoots: ['/etc/line', '/var/log/line'],
      allowAgentFileUpdate: true,
      maxDownloadBytes: 512 * 1024 ** 2,
      maxConfigBytes: 1024 ** 2,
    })
  })

  it('keeps the safe default of a setting it cannot use, and says why', () => {
    const { settings, warnings } = parseAgentSettings(
      '[agent]\nmanaged_roots = ["relative/dir"]\nallow_agent_file_update = "yes"\nmax_download_size = "lots"\nmax_upload = 1\n',
    )
    expect(settings.managedRoots).toEqual([])
    expect(settings.allowAgentFileUpdate).toBe(false)
    expect(settings.maxDownloadBytes).toBe(DEFAULT_MAX_DOWNLOAD_BYTES)
    expect(warnings).toEqual([
      'agent.max_upload is not a setting; ignored',
      'agent.managed_roots must be a list of absolute paths; ignored',
      'agent.allow_agent_file_update must be true or false; ignored',
      'agent.max_download_size must be a size such as 4294967296 or "4 GiB"; ignored',
    ])
    expect(parseAgentSettings('[agent').warnings[0]).toMatch(/^system.toml is not valid TOML/)
  })

  it('reads sizes in bytes, SI and IEC units', () => {
    expect(parseSize(1000)).toBe(1000)
    expect(parseSize('2GB')).toBe(2e9)
    expect(parseSize('1.5 KiB')).toBe(1536)
    expect(parseSize(0)).toBeUndefined()
    expect(parseSize('-1 MiB')).toBeUndefined()
    expect(parseSize('10 parsecs')).toBeUndefined()
  })
})

describe('the managed paths', () => {
  let root: string
  let dataDir: string
  let other: string

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-managed-'))
    dataDir = path.join(root, 'data')
    other = path.join(root, 'other')
    mkdirSync(path.join(dataDir, 'plugins'), { recursive: true })
    mkdirSync(other)
    writeFileSync(path.join(other, 'authorized_keys'), '')
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  const defaults = parseAgentSettings('').settings

  it('allows files under the data dir, and refuses the rest unless its directory is a root', async () => {
    const paths = managedPaths(dataDir, defaults)
    expect(await paths.problem(path.join(dataDir, 'line.conf'), 'write')).toBeUndefined()
    expect(await paths.problem(path.join(dataDir, 'new', 'dir', 'app.conf'), 'write')).toBeUndefined()
    expect(await paths.problem('/etc/passwd', 'read')).toBe(
      `/etc/passwd is outside the directories EdgeTwin manages (${dataDir}); an administrator can add its directory to managed_roots under [agent] in ${dataDir}/system.toml`,
    )
    expect(await paths.problem(path.join(dataDir, '..', 'other', 'authorized_keys'), 'write')).toContain(
      'is outside the directories EdgeTwin manages',
    )
    expect(await paths.problem('relative.conf', 'read')).toBe('relative.conf is not an absolute path')

    const widened = managedPaths(dataDir, { ...defaults, managedRoots: [other] })
    expect(await widened.problem(path.join(other, 'authorized_keys'), 'write')).toBeUndefined()
  })

  it('follows symbolic links to where the file really is', async () => {
    symlinkSync(path.join(other, 'authorized_keys'), path.join(dataDir, 'keys'))
    symlinkSync(other, path.join(dataDir, 'elsewhere'))
    const paths = managedPaths(dataDir, defaults)
    expect(await paths.problem(path.join(dataDir, 'keys'), 'read')).toContain('is outside')
    expect(await paths.problem(path.join(dataDir, 'elsewhere', 'new.conf'), 'write')).toContain('is outside')
  })

  it('never reads or writes the core’s own state', async () => {
    const paths = managedPaths(dataDir, { ...defaults, allowAgentFileUpdate: true })
    for (const name of ['token', 'sync.json', 'edgetwin.db', 'edgetwin.db-wal', 'desktop-session/Cookies']) {
      expect(await paths.problem(path.join(dataDir, name), 'read')).toBe(
        `${path.join(dataDir, name)} is part of EdgeTwin's own state and is never managed`,
      )
    }
  })

  it('reads the agent’s own files but replaces them only when system.toml allows it', async () => {
    const pluginFile = path.join(dataDir, 'plugins', 'tedge-configuration-plugin.toml')
    const protectedPaths = managedPaths(dataDir, defaults)
    for (const file of [
      pluginFile,
      path.join(dataDir, 'plugins', 'tedge-log-plugin.toml'),
      path.join(dataDir, 'system.toml'),
      path.join(dataDir, 'operations', 'restart.toml'),
      path.join(dataDir, 'sm-plugins', 'apt'),
    ]) {
      expect(await protectedPaths.problem(file, 'read')).toBeUndefined()
      expect(await protectedPaths.problem(file, 'write')).toBe(
        `${file} is one of the agent's own files (its policy or code) and is not replaced by a command; an administrator can allow it with allow_agent_file_update = true under [agent] in ${dataDir}/system.toml`,
      )
    }
    const allowed = managedPaths(dataDir, { ...defaults, allowAgentFileUpdate: true })
    expect(await allowed.problem(pluginFile, 'write')).toBeUndefined()
  })
})
