import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  configPluginFilePath,
  configTypes,
  deployConfigFile,
  ensureConfigPluginFile,
  findConfigEntry,
  loadConfigPlugin,
  parseConfigPluginToml,
  readConfigFile,
  rollbackConfigFile,
} from '../../../src-main/core/agent/config'

const PLUGIN_FILE = '/data/plugins/tedge-configuration-plugin.toml'
const own = { type: 'tedge-configuration-plugin', path: PLUGIN_FILE }

describe('tedge-configuration-plugin.toml', () => {
  it('reads files in both TOML spellings; the type defaults to the path; the file itself is always there', () => {
    const config = parseConfigPluginToml(
      ["files = [ { path = '/etc/x.conf', type = 'x', user = 'u', group = 'g', mode = 0o644 } ]", ''].join(
        '\n',
      ),
      PLUGIN_FILE,
    )
    expect(config).toEqual({
      files: [own, { path: '/etc/x.conf', type: 'x', user: 'u', group: 'g', mode: 0o644 }],
      warnings: [],
    })

    const tables = parseConfigPluginToml(
      [
        '[[files]]',
        'path = "/etc/mosquitto/mosquitto.conf"',
        '[[files]]',
        'path = "/etc/collectd.conf"',
        'type = "collectd"',
        'parent_mode = 0o750',
        'service = "collectd"',
      ].join('\n'),
      PLUGIN_FILE,
    )
    expect(configTypes(tables)).toEqual([
      'tedge-configuration-plugin',
      '/etc/mosquitto/mosquitto.conf',
      'collectd',
    ])
    expect(findConfigEntry(tables, 'collectd')).toEqual({
      path: '/etc/collectd.conf',
      type: 'collectd',
      parentMode: 0o750,
      service: 'collectd',
      serviceAction: 'restart',
    })
  })

  it('skips a wrong entry with a warning and keeps the others', () => {
    const config = parseConfigPluginToml(
      [
        'files = [',
        "  { path = '/etc/a.conf', type = 'a' },",
        "  { type = 'no-path' },",
        "  { path = '/etc/b.conf', mdoe = 0o644 },",
        "  { path = '/etc/c.conf', mode = '0644' },",
        "  { path = '/etc/d.conf', type = 'd/+' },",
        "  { path = '/etc/other-a.conf', type = 'a' },",
        "  { path = '/etc/e.conf', service_action = 'restart' },",
        "  { path = '/etc/f.conf', service = 'f', service_action = 'stop' },",
        "  'just a string',",
        "  { path = '/etc/g.conf' },",
        ']',
        "unknown = 'x'",
      ].join('\n'),
      PLUGIN_FILE,
    )
    expect(configTypes(config)).toEqual(['tedge-configuration-plugin', 'a', '/etc/g.conf'])
    expect(config.warnings).toEqual([
      "Ignoring unknown setting 'unknown'",
      "Skipping files[1]: 'path' must be a non-empty string",
      "Skipping files[2]: unknown field 'mdoe'",
      "Skipping files[3]: 'mode' must be an integer file mode such as 0o644",
      "Skipping files[4]: The config type 'd/+' contains the forbidden characters, '+' or '#'.",
      "Skipping files[5]: The config file has the duplicated type 'a'.",
      "Skipping files[6]: The service_action field requires a service field to be specified for config type '/etc/e.conf'.",
      "Skipping files[7]: The service_action 'stop' is not supported. Valid actions are: restart",
      'Skipping files[8]: an entry must be a table',
    ])
  })

  it('keeps only the plugin file’s own entry when the TOML is malformed', () => {
    const config = parseConfigPluginToml('files = [\n  { path = "/etc/a.conf" \n', PLUGIN_FILE)
    expect(config.files).toEqual([own])
    expect(config.warnings).toHaveLength(1)
    expect(config.warnings[0]).toMatch(
      /^The config file \/data\/plugins\/tedge-configuration-plugin.toml is malformed: .*\(line \d+, column \d+\)$/,
    )
  })

  it('takes permissions from an entry for the plugin file itself, and refuses another path for its type', () => {
    const config = parseConfigPluginToml(
      [
        `[[files]]\npath = "${PLUGIN_FILE}"\ntype = "tedge-configuration-plugin"\nmode = 0o600`,
        '[[files]]\npath = "/elsewhere.toml"\ntype = "tedge-configuration-plugin"',
      ].join('\n'),
      PLUGIN_FILE,
    )
    expect(config.files).toEqual([{ ...own, mode: 0o600 }])
    expect(config.warnings).toEqual([
      "Skipping files[1]: The config file has the duplicated type 'tedge-configuration-plugin'.",
    ])
  })

  it('names an unknown type as thin-edge.io does', () => {
    expect(() => findConfigEntry(parseConfigPluginToml('', PLUGIN_FILE), 'nginx')).toThrow(
      'The requested config_type nginx is not defined in the plugin configuration file.',
    )
  })
})

describe('configuration files on disk', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-config-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('writes the default plugin file once, and it declares the log plugin file', async () => {
    const file = configPluginFilePath(dir)
    expect(await loadConfigPlugin(file)).toEqual({
      files: [{ type: 'tedge-configuration-plugin', path: file }],
      warnings: [`The config file ${file} does not exist or is not readable.`],
    })

    expect(await ensureConfigPluginFile(dir)).toBe(true)
    const config = await loadConfigPlugin(file)
    expect(config).toEqual({
      files: [
        { type: 'tedge-configuration-plugin', path: file },
        { type: 'tedge-log-plugin', path: path.join(dir, 'plugins', 'tedge-log-plugin.toml') },
      ],
      warnings: [],
    })

    writeFileSync(file, '# mine\n')
    expect(await ensureConfigPluginFile(dir)).toBe(false)
    expect(readFileSync(file, 'utf8')).toBe('# mine\n')
    expect(readdirSync(path.dirname(file))).toEqual(['tedge-configuration-plugin.toml'])
  })

  it('reads a managed file, and says when it is missing', async () => {
    writeFileSync(path.join(dir, 'x.conf'), 'a = 1\n')
    expect((await readConfigFile({ type: 'x', path: path.join(dir, 'x.conf') })).toString()).toBe('a = 1\n')
    await expect(readConfigFile({ type: 'y', path: path.join(dir, 'y.conf') })).rejects.toThrow(
      `Config file not found: ${path.join(dir, 'y.conf')}`,
    )
  })

  it('creates a new file and its parent with the entry’s owner, group and modes', async () => {
    const file = path.join(dir, 'etc', 'app', 'app.conf')
    const source = path.join(dir, 'downloaded')
    writeFileSync(source, 'new = true\n')

    await deployConfigFile(
      { type: 'app', path: file, user: 'nobody', group: 'nogroup', mode: 0o640, parentMode: 0o750 },
      { fromFile: source },
    )

    expect(readFileSync(file, 'utf8')).toBe('new = true\n')
    const stats = statSync(file)
    expect(stats.mode & 0o7777).toBe(0o640)
    expect([stats.uid, stats.gid]).toEqual([65534, 65534])
    const parent = statSync(path.dirname(file))
    expect(parent.mode & 0o7777).toBe(0o750)
    // parent_user / parent_group default to the file's.
    expect([parent.uid, parent.gid]).toEqual([65534, 65534])
  })

  it('replaces an existing file atomically, keeping its mode and owner, and rolls back to it', async () => {
    const file = path.join(dir, 'app.conf')
    const workDir = path.join(dir, 'work', 'config_update-1')
    writeFileSync(file, 'version = 1\n')
    chmodSync(file, 0o600)
    const entry = { type: 'app', path: file, mode: 0o644 }

    await deployConfigFile(entry, { content: 'version = 2\n' }, { workDir })

    expect(readFileSync(file, 'utf8')).toBe('version = 2\n')
    expect(statSync(file).mode & 0o7777).toBe(0o600)
    expect(readdirSync(dir).sort()).toEqual(['app.conf', 'work'])

    expect(await rollbackConfigFile(entry, workDir)).toBe(true)
    expect(readFileSync(file, 'utf8')).toBe('version = 1\n')
    expect(statSync(file).mode & 0o7777).toBe(0o600)
  })

  it('rolls back a file that did not exist by removing it, and has nothing to roll back without a backup', async () => {
    const entry = { type: 'new', path: path.join(dir, 'new.conf') }
    const workDir = path.join(dir, 'work')
    await deployConfigFile(entry, { content: 'x' }, { workDir })
    expect(statSync(entry.path).mode & 0o7777).toBe(0o644)

    expect(await rollbackConfigFile(entry, workDir)).toBe(true)
    expect(() => statSync(entry.path)).toThrow()
    expect(await rollbackConfigFile(entry, path.join(dir, 'no-work'))).toBe(false)
  })

  it('leaves the file and the directory as they were when the write fails', async () => {
    const file = path.join(dir, 'app.conf')
    writeFileSync(file, 'keep\n')
    await expect(
      deployConfigFile({ type: 'a', path: file, user: 'no-such-user-xyz' }, { content: 'x' }),
    ).rejects.toThrow("no such user: 'no-such-user-xyz'")
    // A directory where the file should be: the rename fails, the temporary file goes away.
    const blocked = path.join(dir, 'blocked.conf')
    mkdirSync(blocked)
    writeFileSync(path.join(blocked, 'inside'), '')
    await expect(deployConfigFile({ type: 'b', path: blocked }, { content: 'x' })).rejects.toThrow(
      `failed to deploy config file to '${blocked}'`,
    )
    expect(readFileSync(file, 'utf8')).toBe('keep\n')
    expect(readdirSync(dir).sort()).toEqual(['app.conf', 'blocked.conf'])
  })
})
