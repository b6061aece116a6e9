import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// `edgetwin mqtt pub` finds the running core's broker as a person would expect: the core writes
// its addresses to DATA_DIR/running.json while it runs, whatever ports it chose, and the CLI says
// how to point it at a broker when there is none.

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

/** This process's environment without the variables that would tell the CLI where to go. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { EDGETWIN_MQTT_URL, EDGETWIN_DATA_DIR, ...env } = process.env
  // The default data dir is under XDG_CONFIG_HOME: an empty one, so a core of this machine's user is not found.
  return { ...env, XDG_CONFIG_HOME: dir(), ...extra }
}

async function pub(args: string[], env: NodeJS.ProcessEnv) {
  const cli = processes.run(['mqtt', 'pub', ...args], env)
  const exit = await cli.exited
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** Resolves with the payload of the first message on `topic` of the broker at `url`. */
async function listen(
  url: string,
  topic: string,
): Promise<{ received: Promise<string>; end(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 })
  const received = new Promise<string>((resolve) =>
    client.on('message', (got, payload) => {
      if (got === topic) resolve(payload.toString())
    }),
  )
  await client.subscribeAsync(topic, { qos: 1 })
  return { received, end: () => client.endAsync() }
}

describe('edgetwin mqtt pub finds the running EdgeTwin', { timeout: 120_000 }, () => {
  let core: ServingCli
  let dataDir: string

  it('from the data dir, from EDGETWIN_DATA_DIR and from the ready file, on any port', async () => {
    dataDir = dir()
    core = await processes.serve(dataDir)
    const running = JSON.parse(readFileSync(path.join(dataDir, 'running.json'), 'utf8'))
    expect(running).toMatchObject({ mqtt: core.ready.mqtt, http: core.ready.http, pid: core.ready.pid })
    expect(JSON.stringify(running)).not.toContain(core.ready.token)

    const readyFile = path.join(dir(), 'ready.json')
    writeFileSync(readyFile, JSON.stringify(core.ready))
    const ways: Array<[string, string[], NodeJS.ProcessEnv]> = [
      ['--data-dir', ['--data-dir', dataDir], cleanEnv()],
      ['EDGETWIN_DATA_DIR', [], cleanEnv({ EDGETWIN_DATA_DIR: dataDir })],
      ['--ready-file', ['--ready-file', readyFile], cleanEnv()],
    ]
    for (const [way, args, env] of ways) {
      const topic = `te/device/main///e/found-by-${way.replace(/\W/g, '')}`
      const listener = await listen(core.ready.mqtt, topic)
      const answer = await pub([...args, '-q', '1', topic, `{"text":"found by ${way}"}`], env)
      expect(answer, way).toMatchObject({ code: 0, stderr: '' })
      expect(await listener.received).toBe(`{"text":"found by ${way}"}`)
      await listener.end()
    }
  })

  it('says how to find one when no EdgeTwin runs in the data dir, also after it stopped or was killed', async () => {
    const empty = dir()
    const none = await pub(['--data-dir', empty, 'te/device/main///e/x', '{}'], cleanEnv())
    expect(none).toMatchObject({ code: 1, stdout: '' })
    expect(none.stderr).toBe(
      `edgetwin: no running EdgeTwin found in ${empty}; start one with \`edgetwin serve\`, give its --data-dir, ` +
        'or pass --url mqtt://host:port\n',
    )

    dataDir = dir()
    core = await processes.serve(dataDir)
    core.child.kill('SIGTERM')
    expect((await core.exited).code).toBe(0)
    expect(existsSync(path.join(dataDir, 'running.json'))).toBe(false)
    const stopped = await pub(['--data-dir', dataDir, 'te/device/main///e/x', '{}'], cleanEnv())
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toContain(`no running EdgeTwin found in ${dataDir}`)

    // A kill -9 leaves the file behind: its pid no longer runs, so it is not believed.
    writeFileSync(
      path.join(dataDir, 'running.json'),
      JSON.stringify({
        mqtt: 'mqtt://127.0.0.1:1',
        http: 'http://127.0.0.1:1',
        pid: 2 ** 22 + 1,
        version: '0',
      }),
    )
    const stale = await pub(['--data-dir', dataDir, 'te/device/main///e/x', '{}'], cleanEnv())
    expect(stale.code).toBe(1)
    expect(stale.stderr).toContain(`no running EdgeTwin found in ${dataDir}`)
  })

  it('takes --url, then EDGETWIN_MQTT_URL, before the data dir, and names the source when it cannot connect', async () => {
    dataDir = dir()
    core = await processes.serve(dataDir)
    const topic = 'te/device/main///e/by-env'
    const listener = await listen(core.ready.mqtt, topic)
    const byEnv = await pub([topic, '{"text":"env"}'], cleanEnv({ EDGETWIN_MQTT_URL: core.ready.mqtt }))
    expect(byEnv).toMatchObject({ code: 0, stderr: '' })
    expect(await listener.received).toBe('{"text":"env"}')
    await listener.end()

    const refused = await pub(['--url', 'mqtt://127.0.0.1:1', '--data-dir', dataDir, topic, '{}'], cleanEnv())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /^edgetwin: cannot reach the broker at mqtt:\/\/127\.0\.0\.1:1 \(from --url\): .*ECONNREFUSED/,
    )
  })

  it('warns that a payload EdgeTwin will refuse is not JSON, and still sends it as asked', async () => {
    dataDir = dir()
    core = await processes.serve(dataDir)
    const errors = await listen(core.ready.mqtt, 'te/errors')
    const answer = await pub(['--data-dir', dataDir, 'te/device/main///m/env', 'not json'], cleanEnv())
    expect(answer.code).toBe(0)
    expect(answer.stderr).toMatch(
      /^edgetwin: warning: the message is not JSON: EdgeTwin will refuse it and say why on te\/errors/,
    )
    expect(await errors.received).toContain('te/device/main///m/env')
    await errors.end()
    // JSON, an empty payload (a clear) and topics outside te/ pass without a word.
    const quiet = await Promise.all([
      pub(['--data-dir', dataDir, 'te/device/main///m/env', '{"t": 1}'], cleanEnv()),
      pub(['--data-dir', dataDir, '-r', 'te/device/main///a/hot', ''], cleanEnv()),
      pub(['--data-dir', dataDir, 'plant/notes', 'free text'], cleanEnv()),
    ])
    for (const result of quiet) expect(result).toMatchObject({ code: 0, stderr: '' })
  })
})
