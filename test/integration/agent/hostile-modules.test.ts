import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { OperationDetail, OperationView, SoftwareView } from '../../../src-main/core/api/types'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// Hostile module names and versions, published over MQTT to the real CLI as in the attack report,
// through each shipped sm-plugin. The real apt-get never runs: a fake one, first on the core's PATH
// with a fake apt-cache, dpkg-query and sudo (test/fixtures/fake-apt), records its arguments.

const FAKE_BIN = path.resolve(import.meta.dirname, '../../fixtures/fake-apt')
const PLUGINS = path.resolve(import.meta.dirname, '../../../resources/sm-plugins')
const MAIN = encodeURIComponent('device/main//')

const cli = new CliProcesses()
let root: string
let fakeState: string
let marker: string
let core: ServingCli
let cmdIds = 0

const env = () => ({
  ...process.env,
  PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
  FAKE_APT_DIR: fakeState,
})

beforeAll(async () => {
  root = tempDir('edgetwin-hostile-modules-')
  fakeState = path.join(root, 'fake-apt')
  mkdirSync(fakeState)
  marker = path.join(root, 'pwned')
  // What the fake apt knows: a few packages, two of them installed.
  writeFileSync(path.join(fakeState, 'known'), 'bash\nbash-static\nedgetwin-demo\n')
  writeFileSync(path.join(fakeState, 'installed'), 'bash\t5.2.15-2\nedgetwin-demo\t1.0-1\n')
  core = await cli.serve(path.join(root, 'data'), { env: env() })
})

afterAll(async () => {
  await cli.cleanup()
  rmSync(root, { recursive: true, force: true })
})

/** The fake apt-get's calls so far, one line each: `[arg] [arg] …`. */
function aptGetCalls(): string[] {
  const file = path.join(fakeState, 'apt-get.calls')
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
}

/** A software_update of one module published over MQTT; resolves with the ended command. */
async function update(type: string, module: Record<string, string>): Promise<OperationDetail> {
  const cmdId = `hostile-${++cmdIds}`
  const client = await mqtt.connectAsync(core.ready.mqtt, { clientId: 'attacker', reconnectPeriod: 0 })
  try {
    const payload = { status: 'init', updateList: [{ type, modules: [{ action: 'install', ...module }] }] }
    await client.publishAsync(`te/device/main///cmd/software_update/${cmdId}`, JSON.stringify(payload), {
      retain: true,
      qos: 1,
    })
  } finally {
    await client.endAsync()
  }
  return vi.waitFor(
    async () => {
      const found = (await core.json<OperationView[]>('/api/v1/operations?operation=software_update')).find(
        (o) => o.cmdId === cmdId,
      )
      if (!found?.terminal) throw new Error(`${cmdId} is not done`)
      return core.json<OperationDetail>(`/api/v1/operations/${found.id}`)
    },
    { timeout: 20_000, interval: 50 },
  )
}

/** The reason the agent's input check gives for the first module's field. */
const refused = (field: string, why: string) =>
  `Invalid software_update command: updateList[0].modules[0].${field} ${why}`

const hostile = (marker: string) => `-oAPT::Update::Pre-Invoke::=touch ${marker}`
const LONG = 'a'.repeat(300)

describe('hostile modules through the apt sm-plugin', () => {
  it.each([
    [
      'an apt option as name',
      () => ({ name: hostile(marker) }),
      () => refused('name', `"${hostile(marker)}" starts with "-"`),
    ],
    [
      'a long option as name',
      () => ({ name: '--allow-unauthenticated' }),
      () => refused('name', '"--allow-unauthenticated" starts with "-"'),
    ],
    [
      'a dpkg option to remove',
      () => ({ name: '-oDPkg::Pre-Invoke::=id=x', action: 'remove' }),
      () => refused('name', '"-oDPkg::Pre-Invoke::=id=x" starts with "-"'),
    ],
    [
      'an option as version',
      () => ({ name: 'bash', version: '--allow-downgrades' }),
      () => refused('version', '"--allow-downgrades" starts with "-"'),
    ],
    [
      'a newline in the name',
      () => ({ name: 'bash\n-oAPT::Get::Trivial-Only=false' }),
      () => refused('name', '"bash\\n-oAPT::Get::Trivial-Only=false" contains a control character'),
    ],
    ['a very long name', () => ({ name: LONG }), () => refused('name', 'is longer than 255 bytes')],
  ])('refuses %s at the agent’s edge: the plugin never runs', async (_, module, reason) => {
    const calls = aptGetCalls().length
    const done = await update('apt', module())
    expect(done).toMatchObject({ status: 'failed', reason: reason() })
    expect(aptGetCalls().length).toBe(calls)
  })

  it.each([
    ['a name outside Debian policy', { name: 'Bad_Name' }, "invalid Debian package name 'Bad_Name'"],
    [
      'a version outside deb-version',
      { name: 'bash', version: '1.0 x' },
      "invalid Debian package version '1.0 x'",
    ],
    ['a name apt would read as a pattern', { name: 'bas.' }, 'apt knows no package named bas.'],
    ['a name apt would read as “remove bash”', { name: 'bash-' }, 'apt knows no package named bash-'],
  ])('refuses %s in the plugin itself: apt-get never sees it', async (_, module, reason) => {
    const done = await update('apt', module)
    expect(done.status).toBe('failed')
    expect(done.reason).toContain(`Failed to install "${module.name}"`)
    expect(done.reason).toContain(reason)
    expect(aptGetCalls().filter((call) => call.includes(module.name))).toEqual([])
  })

  it('removes nothing for a pattern-like name that is no installed package', async () => {
    const done = await update('apt', { name: 'bas.', action: 'remove' })
    expect(done.status).toBe('successful')
    expect(aptGetCalls().filter((call) => call.includes('[remove]'))).toEqual([])
  })

  it('passes a valid module to apt-get after --, where no name can be an option', async () => {
    expect((await update('apt', { name: 'edgetwin-demo', version: '1.0-2' })).status).toBe('successful')
    expect((await update('apt', { name: 'edgetwin-demo', action: 'remove' })).status).toBe('successful')
    const calls = aptGetCalls()
    expect(calls).toContain(
      '[--quiet] [--yes] [-o] [DPkg::Lock::Timeout=60] [-o] [DPkg::Options::=--force-confold] [install] ' +
        '[--allow-downgrades] [--no-install-recommends] [--] [edgetwin-demo=1.0-2] ',
    )
    expect(calls).toContain('[--quiet] [--yes] [-o] [DPkg::Lock::Timeout=60] [remove] [--] [edgetwin-demo] ')
    // Nothing an attacker sent reached apt-get, and the Pre-Invoke hook never ran.
    expect(
      calls.filter((call) => /Pre-Invoke|allow-unauthenticated|Bad_Name|bas\.|bash-|a{300}/.test(call)),
    ).toEqual([])
    expect(existsSync(marker)).toBe(false)
  })
})

describe('hostile modules through the file sm-plugin', () => {
  const module = (name: string, version = '1') => ({ name, version, url: `${core.ready.http}/te/v1/files/m` })

  beforeAll(async () => {
    const put = await fetch(`${core.ready.http}/te/v1/files/m`, { method: 'PUT', body: 'module\n' })
    expect(put.status).toBe(201)
  })

  it.each([
    ['an option as name', () => module('-rf'), () => refused('name', '"-rf" starts with "-"')],
    [
      'a version forging a list line',
      () => module('recipe', '1\nfake-backdoor\t6.6.6'),
      () => refused('version', '"1\\nfake-backdoor\\t6.6.6" contains a control character'),
    ],
    [
      'a newline in the name',
      () => module('recipe\nfake-backdoor'),
      () => refused('name', '"recipe\\nfake-backdoor" contains a control character'),
    ],
    ['a very long name', () => module(LONG), () => refused('name', 'is longer than 255 bytes')],
  ])('refuses %s at the agent’s edge', async (_, input, reason) => {
    expect(await update('file', input())).toMatchObject({ status: 'failed', reason: reason() })
  })

  it('refuses a hidden or path-like name in the plugin itself', async () => {
    const hidden = await update('file', module('.versions'))
    expect(hidden.reason).toContain("invalid module name '.versions'")
    const pathLike = await update('file', module('../../escape'))
    expect(pathLike.reason).toContain("invalid module name '../../escape'")
  })

  it('lists no module that nobody installed', async () => {
    const list = await fetch(`${core.ready.http}/api/v1/entities/${MAIN}/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${core.ready.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'software_list', payload: {} }),
    })
    const requested = (await list.json()) as OperationView
    await vi.waitFor(async () => {
      expect((await core.json<OperationDetail>(`/api/v1/operations/${requested.id}`)).status).toBe(
        'successful',
      )
    })
    const software = await core.json<SoftwareView>(`/api/v1/entities/${MAIN}/software`)
    const names = software.modules.map((m) => m.name)
    expect(names).not.toContain('fake-backdoor')
    expect(names.filter((n) => n.includes('\n') || n.startsWith('-'))).toEqual([])
    expect(existsSync(path.join(root, 'data', 'escape'))).toBe(false)
  })
})

describe('the shipped plugins on their own, called with hostile arguments', () => {
  /** Runs a shipped plugin as the agent would, with the fake apt first on the PATH. */
  const plugin = (name: string, args: string[]) =>
    spawnSync(path.join(PLUGINS, name), args, {
      encoding: 'utf8',
      env: { ...env(), EDGETWIN_APT_UPDATE: '0', EDGETWIN_FILE_PLUGIN_DIR: path.join(root, 'file-plugin') },
    })

  it('apt refuses option-like and invalid names and versions with exit 2 and a reason', () => {
    const calls = aptGetCalls().length
    for (const args of [
      ['install', hostile(marker)],
      ['install', '--allow-unauthenticated'],
      ['remove', '-oDPkg::Pre-Invoke::=id=x'],
      ['install', 'bash', '--module-version', '--force-yes'],
      ['install', 'bash', '--module-version', '1:2:3'],
      ['install', 'bash\n-oX=1'],
      ['install', LONG],
    ]) {
      const run = plugin('apt', args)
      expect(run.status, args.join(' ')).toBe(2)
      expect(run.stderr).toMatch(/^invalid Debian package (name|version) '/)
    }
    expect(aptGetCalls().length).toBe(calls)
    expect(existsSync(marker)).toBe(false)
  })

  it('file refuses a version with a newline, which would forge a list line', () => {
    const module = path.join(root, 'module')
    writeFileSync(module, 'content\n')
    const run = plugin('file', [
      'install',
      'recipe',
      '--file',
      module,
      '--module-version',
      '1\nfake-backdoor\t6.6.6',
    ])
    expect(run.status).toBe(2)
    expect(run.stderr).toBe(
      "invalid module version '1?fake-backdoor?6.6.6': no control characters, not starting with '-'\n",
    )
    expect(plugin('file', ['list']).stdout).toBe('')
  })
})
