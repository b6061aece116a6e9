import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { collect, startCore, type TestCore, tempDir } from '../../helpers/core'

// The configuration and log plugin files say which files are managed; system.toml says where a
// managed file may be. A local MQTT client, the report's attacker, tries to widen the first to
// escape the second.

let t: TestCore
let outside: string
let attacker: MqttClient
let pluginFile: string
let logPluginFile: string
let victim: string

const ORIGINAL_KEYS = 'ssh-ed25519 AAAA-owner\n'

beforeEach(async () => {
  t = await startCore()
  outside = tempDir('edgetwin-outside-')
  victim = path.join(outside, 'victim', 'authorized_keys')
  mkdirSync(path.dirname(victim))
  writeFileSync(victim, ORIGINAL_KEYS, { mode: 0o600 })
  pluginFile = path.join(t.dataDir, 'plugins', 'tedge-configuration-plugin.toml')
  logPluginFile = path.join(t.dataDir, 'plugins', 'tedge-log-plugin.toml')
  attacker = await t.client({ clientId: 'attacker' })
})

afterEach(async () => {
  await t.stop()
  rmSync(outside, { recursive: true, force: true })
})

/** An administrator's edit of system.toml: read at the next command. */
const policy = (toml: string) => writeFileSync(path.join(t.dataDir, 'system.toml'), toml)

/** Puts content under /te/v1/files (open to loopback clients, as thin-edge.io's) and returns its URL. */
async function hosted(name: string, content: string): Promise<string> {
  const response = await t.http(`/te/v1/files/${name}`, { method: 'PUT', body: content, auth: false })
  expect(response.status).toBe(201)
  return `${t.ready.http}/te/v1/files/${name}`
}

/** Publishes a command on the main device and resolves with its terminal state. */
async function command(operation: string, cmdId: string, payload: Record<string, unknown>) {
  const topic = `te/device/main///cmd/${operation}/${cmdId}`
  const states = await collect(attacker, topic)
  await attacker.publishAsync(topic, JSON.stringify({ status: 'init', ...payload }), { retain: true, qos: 1 })
  const done = await states.next((m) => /"status":"(successful|failed)"/.test(m.payload), 10_000)
  return JSON.parse(done.payload) as { status: string; reason?: string }
}

const hostilePlugin = (keys: string) =>
  [
    '[[files]]',
    `path = ${JSON.stringify(keys)}`,
    'type = "authorized_keys"',
    'mode = 0o600',
    '[[files]]',
    'path = "/etc/passwd"',
    'type = "passwd"',
    '',
  ].join('\n')

describe('the configuration plugin’s own file', () => {
  it('cannot be replaced by config_update, which ends the self-replacement chain', async () => {
    const before = readFileSync(pluginFile, 'utf8')
    const replaced = await command('config_update', 'chain-1', {
      type: 'tedge-configuration-plugin',
      tedgeUrl: await hosted('evil/plugin', hostilePlugin(victim)),
    })
    expect(replaced).toMatchObject({ status: 'failed' })
    expect(replaced.reason).toBe(
      `${pluginFile} is one of the agent's own files (its policy or code) and is not replaced by a command; ` +
        `an administrator can allow it with allow_agent_file_update = true under [agent] in ${t.dataDir}/system.toml`,
    )
    expect(readFileSync(pluginFile, 'utf8')).toBe(before)

    const written = await command('config_update', 'chain-2', {
      type: 'authorized_keys',
      tedgeUrl: await hosted('evil/key', 'ssh-ed25519 AAAA-attacker-key\n'),
    })
    expect(written.reason).toBe(
      'The requested config_type authorized_keys is not defined in the plugin configuration file.',
    )
    expect(readFileSync(victim, 'utf8')).toBe(ORIGINAL_KEYS)
  })

  it('when an administrator allows replacing it, still declares nothing outside the managed roots', async () => {
    policy('[agent]\nallow_agent_file_update = true\n')
    const replaced = await command('config_update', 'chain-3', {
      type: 'tedge-configuration-plugin',
      tedgeUrl: await hosted('evil/plugin', hostilePlugin(victim)),
    })
    expect(replaced.status).toBe('successful')

    const written = await command('config_update', 'chain-4', {
      type: 'authorized_keys',
      tedgeUrl: await hosted('evil/key', 'ssh-ed25519 AAAA-attacker-key\n'),
    })
    expect(written.reason).toBe(
      `${victim} is outside the directories EdgeTwin manages (${t.dataDir}); an administrator can add its ` +
        `directory to managed_roots under [agent] in ${t.dataDir}/system.toml`,
    )
    expect(readFileSync(victim, 'utf8')).toBe(ORIGINAL_KEYS)

    const stolen = await command('config_snapshot', 'chain-5', {
      type: 'passwd',
      tedgeUrl: `${t.ready.http}/te/v1/files/stolen-passwd`,
    })
    expect(stolen.reason).toContain('/etc/passwd is outside the directories EdgeTwin manages')
    expect((await t.http('/te/v1/files/stolen-passwd', { auth: false })).status).toBe(404)
  })
})

describe('the managed roots', () => {
  it('refuse a snapshot of /etc/passwd and of the core’s token, even when the plugin file declares them', async () => {
    writeFileSync(
      pluginFile,
      `files = [ { path = "/etc/passwd", type = "passwd" }, { path = ${JSON.stringify(path.join(t.dataDir, 'token'))}, type = "token" } ]\n`,
    )
    const passwd = await command('config_snapshot', 'passwd-1', { type: 'passwd' })
    expect(passwd).toMatchObject({ status: 'failed' })
    expect(passwd.reason).toContain('/etc/passwd is outside the directories EdgeTwin manages')
    const token = await command('config_snapshot', 'token-1', { type: 'token' })
    expect(token.reason).toBe(
      `${path.join(t.dataDir, 'token')} is part of EdgeTwin's own state and is never managed`,
    )
  })

  it('take the directories an administrator lists in system.toml', async () => {
    const lineConf = path.join(outside, 'line.conf')
    writeFileSync(lineConf, 'speed = 100\n')
    writeFileSync(pluginFile, `files = [ { path = ${JSON.stringify(lineConf)}, type = "line.conf" } ]\n`)
    const url = await hosted('line/next', 'speed = 120\n')
    expect((await command('config_update', 'line-1', { type: 'line.conf', tedgeUrl: url })).reason).toContain(
      'is outside the directories EdgeTwin manages',
    )
    expect(readFileSync(lineConf, 'utf8')).toBe('speed = 100\n')

    policy(`[agent]\nmanaged_roots = [${JSON.stringify(outside)}]\n`)
    expect((await command('config_update', 'line-2', { type: 'line.conf', tedgeUrl: url })).status).toBe(
      'successful',
    )
    expect(readFileSync(lineConf, 'utf8')).toBe('speed = 120\n')
  })

  it('confine the log files log_upload collects; the log plugin file is not replaced either', async () => {
    const secret = path.join(outside, 'secret.log')
    writeFileSync(secret, 'password=hunter2\n')
    const replaced = await command('config_update', 'log-1', {
      type: 'tedge-log-plugin',
      tedgeUrl: await hosted(
        'evil/logs',
        `files = [ { type = "secret", path = ${JSON.stringify(secret)} } ]\n`,
      ),
    })
    expect(replaced.reason).toContain(`${logPluginFile} is one of the agent's own files`)

    // Even declared by the administrator, a log outside the roots is not read.
    writeFileSync(logPluginFile, `files = [ { type = "secret", path = ${JSON.stringify(secret)} } ]\n`)
    const uploaded = await command('log_upload', 'log-2', {
      type: 'secret',
      tedgeUrl: `${t.ready.http}/te/v1/files/stolen-log`,
    })
    expect(uploaded).toMatchObject({ status: 'failed' })
    expect(uploaded.reason).toContain(`${secret} is outside the directories EdgeTwin manages`)
    expect((await t.http('/te/v1/files/stolen-log', { auth: false })).status).toBe(404)
  })
})
