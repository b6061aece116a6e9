import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { OperationDetail, OperationView } from '../../../src-main/core/api/types'
import { CliProcesses, kill9, type ServeOptions, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// Crash and restart of the agent through the real CLI (dist/cli.js: `npm run build:core` first), its
// SQLite file and its broker: a command EdgeTwin executes outlives a kill -9 of EdgeTwin and ends
// (reference §3.1), the restart operation tells a device reboot from an agent restart (§3.2).

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures')
const MAIN_COMMANDS = 'te/device/main///cmd/+/+'
/** Longer than any wait of these tests: what sleeps this long was interrupted, not finished. */
const LONG_SECONDS = '600'

const cli = new CliProcesses()
const dirs: string[] = []
const clients: MqttClient[] = []
/** Processes a test leaves behind on purpose (an sm-plugin orphaned by kill -9). */
const leftovers: number[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
  await cli.cleanup()
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A data dir whose reboot command is harmless until a test sets its own: the tests may run as root. */
function dataDir(): string {
  const dir = tempDir('edgetwin-resume-')
  dirs.push(dir)
  systemToml(dir, ['/bin/false'])
  return dir
}

function systemToml(dir: string, reboot: string[]): void {
  // JSON strings are TOML basic strings for these paths and words.
  writeFileSync(
    path.join(dir, 'system.toml'),
    `[system]\nreboot = [${reboot.map((a) => JSON.stringify(a)).join(', ')}]\n`,
  )
}

/** A fixture program copied into the data dir, executable whatever mode the checkout gave it. */
function installProgram(fixture: string, target: string): string {
  mkdirSync(path.dirname(target), { recursive: true })
  copyFileSync(path.join(FIXTURES, fixture), target)
  chmodSync(target, 0o755)
  return target
}

const commandTopic = (operation: string, cmdId: string) => `te/device/main///cmd/${operation}/${cmdId}`

async function request(core: ServingCli, operation: string, payload?: Record<string, unknown>) {
  const response = await core.http(`/api/v1/entities/${encodeURIComponent('device/main//')}/operations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload ? { operation, payload } : { operation }),
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as OperationView
}

async function finished(core: ServingCli, id: number): Promise<OperationDetail> {
  return vi.waitFor(
    async () => {
      const detail = await core.json<OperationDetail>(`/api/v1/operations/${id}`)
      expect(detail.terminal, `status ${detail.status}`).toBe(true)
      return detail
    },
    { timeout: 10_000, interval: 50 },
  )
}

interface StoredCommand {
  status: string
  payload: Record<string, unknown>
  agentState: Record<string, unknown>
  cleared: boolean
}

/** The command's row as committed to the database file: what survives a kill -9. */
function stored(dir: string, cmdId: string): StoredCommand | undefined {
  const db = new Database(path.join(dir, 'edgetwin.db'), { readonly: true, fileMustExist: true })
  try {
    const row = db
      .prepare('SELECT status, payload, agent_state, cleared FROM operations WHERE cmd_id = ?')
      .get(cmdId) as { status: string; payload: string; agent_state: string; cleared: number } | undefined
    return (
      row && {
        status: row.status,
        payload: JSON.parse(row.payload),
        agentState: JSON.parse(row.agent_state),
        cleared: row.cleared === 1,
      }
    )
  } finally {
    db.close()
  }
}

function storedIn(dir: string, cmdId: string, status: string): Promise<StoredCommand> {
  return vi.waitFor(
    () => {
      const command = stored(dir, cmdId)
      expect(command?.status).toBe(status)
      return command as StoredCommand
    },
    { timeout: 10_000, interval: 20 },
  )
}

/** Resolves with the file's content once something wrote it. */
function written(file: string): Promise<string> {
  return vi.waitFor(
    () => {
      expect(existsSync(file), `${file} not written yet`).toBe(true)
      return readFileSync(file, 'utf8').trim()
    },
    { timeout: 10_000, interval: 20 },
  )
}

/** Running, not a zombie nobody reaped (in a container, PID 1 may not reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function connect(core: ServingCli): Promise<MqttClient> {
  const c = await mqtt.connectAsync(core.ready.mqtt, { reconnectPeriod: 0 })
  clients.push(c)
  return c
}

let sentinels = 0

/** The main device's retained command messages, as a new subscriber gets them. */
async function retainedCommands(core: ServingCli): Promise<Map<string, string>> {
  const c = await connect(core)
  // One SUBSCRIBE: aedes sends the retained messages of its filters in their order, so once the
  // sentinel (retained outside te/, which nothing reads) arrives, every retained command has.
  const sentinel = `edgetwin-test/sentinel-${++sentinels}`
  await c.publishAsync(sentinel, 'end', { qos: 1, retain: true })
  const messages = new Map<string, string>()
  const complete = new Promise<void>((resolve) =>
    c.on('message', (topic, payload, packet) => {
      if (topic === sentinel) resolve()
      else if (packet.retain) messages.set(topic, payload.toString())
    }),
  )
  await c.subscribeAsync([MAIN_COMMANDS, sentinel], { qos: 1 })
  await complete
  await c.publishAsync(sentinel, '', { qos: 1, retain: true })
  await c.endAsync()
  return messages
}

/**
 * A persistent session on the main device's commands (QoS 1): what the core publishes while it is
 * away, or the core itself is down, is delivered when it comes back.
 */
async function watchCommands(core: ServingCli, clientId: string) {
  const messages: Array<{ topic: string; payload: string }> = []
  const session = { clientId, clean: false, protocolVersion: 4 as const, reconnectPeriod: 0 }
  const listen = (c: MqttClient) => {
    clients.push(c)
    c.on('message', (topic, payload) => {
      const last = messages.findLast((m) => m.topic === topic)
      // A QoS 1 message unacknowledged at the kill comes again: one state, not two.
      if (last?.payload !== payload.toString()) messages.push({ topic, payload: payload.toString() })
    })
  }
  const first = await mqtt.connectAsync(core.ready.mqtt, session)
  listen(first)
  await first.subscribeAsync(MAIN_COMMANDS, { qos: 1 })
  return {
    /** The messages of one command topic: parsed states, `""` for the clear. */
    on(topic: string): Array<Record<string, unknown> | ''> {
      return messages
        .filter((m) => m.topic === topic)
        .map((m) => (m.payload === '' ? '' : (JSON.parse(m.payload) as Record<string, unknown>)))
    },
    /** Back on a restarted core: listening before the CONNACK, after which the queue is delivered. */
    async reconnect(next: ServingCli): Promise<void> {
      const again = mqtt.connect(next.ready.mqtt, session)
      listen(again)
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        again.once('connect', resolve)
        again.once('error', reject)
      })
      expect(connack.sessionPresent).toBe(true)
    },
  }
}

type Watcher = Awaited<ReturnType<typeof watchCommands>>

/** Before a kill: the retained state on the broker is the state committed to the database. */
async function expectBrokerHolds(core: ServingCli, topic: string, command: StoredCommand): Promise<void> {
  const retained = await retainedCommands(core)
  expect(JSON.parse(retained.get(topic) ?? 'null')).toEqual(command.payload)
}

/**
 * Once terminal: the broker carried every state in order, then the requester's clear (reference
 * §3.1: EdgeTwin requested it, so EdgeTwin clears it), so no retained message is left; the store
 * agrees.
 */
async function expectClearedAfter(
  core: ServingCli,
  dir: string,
  watcher: Watcher,
  done: OperationDetail,
): Promise<void> {
  const topic = commandTopic(done.operation, done.cmdId)
  await vi.waitFor(() => expect(watcher.on(topic).at(-1)).toBe(''), { timeout: 10_000, interval: 20 })
  const seen = watcher.on(topic)
  expect(seen.map((m) => (m === '' ? '' : m.status))).toEqual([...done.states.map((s) => s.status), ''])
  expect(seen.at(-2)).toEqual(done.payload)
  expect((await retainedCommands(core)).has(topic)).toBe(false)
  await vi.waitFor(() =>
    expect(stored(dir, done.cmdId)).toMatchObject({ status: done.status, cleared: true }),
  )
}

describe('a command EdgeTwin executes, across kill -9 of the real CLI', () => {
  it('resumes a workflow script: the orphaned run is stopped, the script runs again and succeeds', async () => {
    const dir = dataDir()
    const job = installProgram('scripts/resumable-job', path.join(dir, 'bin', 'resumable-job'))
    mkdirSync(path.join(dir, 'operations'))
    writeFileSync(
      path.join(dir, 'operations', 'long_job.toml'),
      `operation = "long_job"

[init]
action = "proceed"
on_success = "executing"

[executing]
script = "${job} \${.payload.marker}"
on_success = "successful"

[successful]
action = "cleanup"

[failed]
action = "cleanup"
`,
    )
    const marker = path.join(dir, 'job.marker')

    const first = await cli.serve(dir)
    const watcher = await watchCommands(first, 'resume-script-watcher')
    const requested = await request(first, 'long_job', { marker })
    const topic = commandTopic('long_job', requested.cmdId)
    const pid = Number(await written(marker))
    // Committed before the script started: the state it runs in, and its process group.
    const executing = await storedIn(dir, requested.cmdId, 'executing')
    expect(executing.agentState.script).toMatchObject({ pid })
    await expectBrokerHolds(first, topic, executing)
    await kill9(first)
    // Scripts lead their own process group: the kill of EdgeTwin alone does not end this one.
    expect(alive(pid)).toBe(true)

    const second = await cli.serve(dir)
    await watcher.reconnect(second)
    const done = await finished(second, requested.id)
    expect(done).toMatchObject({ status: 'successful', reason: null })
    expect(done.states.map((s) => s.status)).toEqual(['init', 'executing', 'successful'])
    expect(done.log).toMatch(/resumed in state executing after a restart of EdgeTwin/)
    expect(done.log).toMatch(new RegExp(`stopped the script run .* \\(process group ${pid}\\)`))
    expect(done.log).toMatch(new RegExp(`the run of pid ${pid} was interrupted`))
    expect(second.stderr()).toMatch(
      new RegExp(`info +resuming command .*operation=long_job cmdId=${requested.cmdId} status=executing`),
    )
    await vi.waitFor(() => expect(alive(pid), `the orphaned script (pid ${pid}) still runs`).toBe(false))
    await expectClearedAfter(second, dir, watcher, done)
  })

  it('fails a built-in software_update whose sm-plugin ran when EdgeTwin died, with a clear reason', async () => {
    const dir = dataDir()
    installProgram('sm-plugins/scripted', path.join(dir, 'sm-plugins', 'sleepy'))
    const fixtureDir = path.join(dir, 'plugin-behaviour')
    mkdirSync(fixtureDir)
    // No update-list: one `install` per module, and this one takes its time.
    writeFileSync(path.join(fixtureDir, 'sleepy.update-list.exit'), '1')
    writeFileSync(path.join(fixtureDir, 'sleepy.install.sleep'), LONG_SECONDS)
    const options: ServeOptions = { env: { ...process.env, FIXTURE_DIR: fixtureDir } }

    const first = await cli.serve(dir, options)
    const watcher = await watchCommands(first, 'resume-software-watcher')
    const requested = await request(first, 'software_update', {
      updateList: [
        { type: 'sleepy', modules: [{ name: 'pump-control', version: '2.1', action: 'install' }] },
      ],
    })
    const topic = commandTopic('software_update', requested.cmdId)
    const installing = Number(await written(path.join(fixtureDir, 'sleepy.install.pid')))
    // Should the resume not stop it, the test ends it.
    leftovers.push(installing)
    const executing = await storedIn(dir, requested.cmdId, 'executing')
    await expectBrokerHolds(first, topic, executing)
    await kill9(first)

    const second = await cli.serve(dir, options)
    await watcher.reconnect(second)
    const done = await finished(second, requested.id)
    expect(done).toMatchObject({
      status: 'failed',
      reason: 'EdgeTwin restarted while software_update was executing; its outcome is unknown',
    })
    expect(done.states.map((s) => s.status)).toEqual(['init', 'scheduled', 'executing', 'failed'])
    expect(done.log).toMatch(/resumed in state executing after a restart of EdgeTwin/)
    // The plugin call that outlived EdgeTwin is stopped with its process group (the sleep is in it).
    expect(done.log).toMatch(/stopped the script run left by the previous EdgeTwin \(process group \d+\)/)
    await vi.waitFor(() => expect(alive(installing), 'the orphaned plugin still runs').toBe(false))
    await expectClearedAfter(second, dir, watcher, done)
  })
})

describe('the restart operation of the main device', () => {
  /** Requests a restart whose reboot command runs `fake-reboot`; kills EdgeTwin once the device goes down. */
  async function restartAcrossPowerLoss(newBootId: string | undefined, watcherId: string) {
    const dir = dataDir()
    const bootIdFile = path.join(dir, 'boot_id')
    writeFileSync(bootIdFile, 'boot-1\n')
    const goingDown = path.join(dir, 'going-down')
    const reboot = installProgram('scripts/fake-reboot', path.join(dir, 'bin', 'fake-reboot'))
    systemToml(dir, newBootId ? [reboot, goingDown, bootIdFile, newBootId] : [reboot, goingDown])
    const options: ServeOptions = { args: ['--boot-id-file', bootIdFile] }

    const first = await cli.serve(dir, options)
    const watcher = await watchCommands(first, watcherId)
    const requested = await request(first, 'restart')
    await written(goingDown)
    // Reference §3.2: `executing` is published and stored, with the boot id before the reboot.
    const executing = await storedIn(dir, requested.cmdId, 'executing')
    expect(executing.agentState.bootId).toBe('boot-1')
    await expectBrokerHolds(first, commandTopic('restart', requested.cmdId), executing)
    // The power loss: the restart step waits for the device to go down, and here it does.
    await kill9(first)

    const second = await cli.serve(dir, options)
    await watcher.reconnect(second)
    const done = await finished(second, requested.id)
    expect(done.states.map((s) => s.status)).toEqual(['init', 'scheduled', 'executing', done.status])
    expect(done.log).toMatch(/resumed in state executing after a restart of EdgeTwin/)
    await expectClearedAfter(second, dir, watcher, done)
    return done
  }

  it('succeeds when EdgeTwin comes back on a device that booted again', async () => {
    const done = await restartAcrossPowerLoss('boot-2', 'restart-reboot-watcher')
    expect(done).toMatchObject({ status: 'successful', reason: null })
  })

  it('fails when EdgeTwin comes back but the device did not boot', async () => {
    const done = await restartAcrossPowerLoss(undefined, 'restart-no-reboot-watcher')
    // Reference §3.2, tedge-agent's restart manager: exactly this reason.
    expect(done).toMatchObject({
      status: 'failed',
      reason: 'The agent has been restarted but not the device',
    })
  })

  it('fails with the stderr of a reboot command that exits 1', async () => {
    const dir = dataDir()
    systemToml(dir, ['/bin/sh', '-c', "echo 'reboot: must be superuser.' >&2; exit 1"])
    const core = await cli.serve(dir, { args: ['--boot-id-file', path.join(dir, 'boot_id')] })
    const watcher = await watchCommands(core, 'restart-refused-watcher')
    const requested = await request(core, 'restart')
    const done = await finished(core, requested.id)
    expect(done.status).toBe('failed')
    expect(done.reason).toMatch(/^The restart command "\/bin\/sh -c .*" failed: reboot: must be superuser\.$/)
    expect(done.states.map((s) => s.status)).toEqual(['init', 'scheduled', 'executing', 'failed'])
    await expectClearedAfter(core, dir, watcher, done)
  })
})
