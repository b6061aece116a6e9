import { execFile } from 'node:child_process'
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../../src-main/core/exposure/passwords'
import { generateCerts, type TestCerts } from '../../helpers/certs'
import { CliProcesses, type ServingCli } from '../../helpers/cli'
import { tempDir } from '../../helpers/core'

// `serve --host` beyond loopback, in a network namespace of its own (`unshare --net`) whose `lo` also
// carries 10.99.0.1 and 10.99.0.2, so a client there has a source address that is not loopback and
// nothing leaves the namespace. A client on those addresses gets TLS only, and MQTT only with
// credentials; loopback clients (the core's own: `edgetwin mqtt pub`, the simulator, the agent) keep
// plain MQTT and HTTP without any. The clients run inside the namespace too (test/fixtures/lan-probe.mjs
// through `nsenter`).

const run = promisify(execFile)
const PROBE = fileURLToPath(new URL('../../fixtures/lan-probe.mjs', import.meta.url))
const BIN = fileURLToPath(new URL('../../../bin/edgetwin.js', import.meta.url))
const LAN = '10.99.0.1'
const NETNS = [
  'unshare',
  '--net',
  'sh',
  '-c',
  `ip link set lo up && ip addr add ${LAN}/32 dev lo && ip addr add 10.99.0.2/32 dev lo && exec "$@"`,
  'netns',
]

const processes = new CliProcesses()
const dirs: string[] = []
const dataDir = (name: string) => {
  const dir = tempDir(`edgetwin-lan-${name}-`)
  dirs.push(dir)
  return dir
}

afterAll(async () => {
  await processes.cleanup()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

type Step = Record<string, unknown>
interface MqttResult {
  connected: boolean
  code?: number | null
  error?: string
  roundTrip?: { topic: string; payload: string }
}
interface HttpResult {
  status: number | null
  body?: string
  error?: string
  opened?: boolean
}

/** Runs a command inside the core's network namespace. */
async function inNamespace(core: ServingCli, command: string, args: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=/proc/${core.ready.pid}/ns/net`, command, ...args], {
    timeout: 20_000,
  })
  return stdout
}

async function probe<T = MqttResult & HttpResult>(core: ServingCli, steps: Step[]): Promise<T[]> {
  return JSON.parse(await inNamespace(core, process.execPath, [PROBE, JSON.stringify(steps)])) as T[]
}

const port = (url: string) => new URL(url).port
const lanMqtt = (core: ServingCli, scheme = 'mqtts') => `${scheme}://${LAN}:${port(core.ready.mqtt)}`
const lanHttp = (core: ServingCli, scheme = 'https') => `${scheme}://${LAN}:${port(core.ready.http)}`

/** The generated user's password from the lines `serve` printed. */
function printedPassword(core: ServingCli): string {
  const match = /MQTT user "edgetwin", password "([^"]+)": shown this once/.exec(core.stdout())
  if (!match) throw new Error(`no generated password in: ${core.stdout()}`)
  return match[1] as string
}

describe('--host 0.0.0.0 with what the first start generates', () => {
  let dir: string
  let core: ServingCli
  let password: string
  let certificate: string

  beforeAll(async () => {
    dir = dataDir('generated')
    core = await processes.serve(dir, { args: ['--host', '0.0.0.0'], wrap: NETNS })
    password = printedPassword(core)
    certificate = path.join(dir, 'tls', 'server.crt')
  })

  it('prints the generated password once with the fingerprint, stores it hashed and the key owner-only', () => {
    const fingerprint = core.ready.lan?.fingerprint ?? ''
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(core.stdout()).toContain(
      `TLS certificate SHA-256 fingerprint: ${fingerprint} (self-signed, generated into ${certificate})`,
    )
    expect(core.ready.lan?.https).toContain(`https://${LAN}:${port(core.ready.http)}`)
    expect(core.ready.lan?.mqtts).toContain(`mqtts://${LAN}:${port(core.ready.mqtt)}`)
    // The ready file and the password file never hold the password itself.
    expect(JSON.stringify(core.ready)).not.toContain(password)
    const passwd = readFileSync(path.join(dir, 'mqtt-passwd'), 'utf8')
    expect(passwd).toMatch(/^edgetwin:\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/)
    expect(passwd).not.toContain(password)
    expect(statSync(path.join(dir, 'mqtt-passwd')).mode & 0o777).toBe(0o600)
    expect(statSync(path.join(dir, 'tls', 'server.key')).mode & 0o777).toBe(0o600)
  })

  it('refuses MQTT from a non-loopback address without TLS or without credentials, and serves it with both', async () => {
    const [plain, anonymous, wrong, good] = await probe(core, [
      { mqtt: lanMqtt(core, 'mqtt'), username: 'edgetwin', password },
      { mqtt: lanMqtt(core), ca: certificate },
      { mqtt: lanMqtt(core), ca: certificate, username: 'edgetwin', password: 'not-it' },
      {
        mqtt: lanMqtt(core),
        ca: certificate,
        username: 'edgetwin',
        password,
        roundTrip: 'te/device/lan01///e/hello',
      },
    ])
    expect(plain?.connected).toBe(false)
    expect(anonymous).toMatchObject({ connected: false, code: 5 })
    expect(wrong).toMatchObject({ connected: false, code: 4 })
    expect(good).toMatchObject({
      connected: true,
      roundTrip: { topic: 'te/device/lan01///e/hello', payload: '{"text":"round trip"}' },
    })
  })

  it('offers HTTPS only on the LAN address, and /te/v1 only to loopback clients', async () => {
    const loopback = core.ready.http
    const [plain, health, te, teLoopback, stream] = await probe(core, [
      { http: `${lanHttp(core, 'http')}/api/v1/health` },
      { http: `${lanHttp(core)}/api/v1/health`, ca: certificate },
      { http: `${lanHttp(core)}/te/v1/entities`, ca: certificate },
      { http: `${loopback}/te/v1/entities` },
      {
        ws: `${lanHttp(core, 'wss')}/api/v1/stream`,
        ca: certificate,
        headers: { authorization: `Bearer ${core.ready.token}` },
      },
    ])
    expect(plain?.status).toBeNull()
    expect(health).toMatchObject({ status: 200 })
    expect(JSON.parse(health?.body ?? '')).toMatchObject({ status: 'ok' })
    expect(te?.status).toBe(401)
    expect(teLoopback?.status).toBe(200)
    // The live stream's WebSocket works over TLS too.
    expect(stream).toMatchObject({ opened: true })
  })

  it('keeps the local bus open to the core’s own clients: `edgetwin mqtt pub`, the simulator, the agent', async () => {
    await inNamespace(core, process.execPath, [
      BIN,
      'mqtt',
      'pub',
      '--url',
      core.ready.mqtt,
      '-q',
      '1',
      'te/device/cli01///e/hello',
      '{"text":"from a workflow script"}',
    ])
    const simulated = await inNamespace(core, process.execPath, [
      BIN,
      'sim',
      '--url',
      core.ready.mqtt,
      '--duration',
      '1',
    ])
    expect(simulated).toMatch(/^simulating against mqtt:\/\/127\.0\.0\.1:\d+\npublished [1-9]\d* messages/)
    const token = { authorization: `Bearer ${core.ready.token}` }
    const [operation, entities] = await probe(core, [
      {
        http: `${core.ready.http}/api/v1/entities/${encodeURIComponent('device/main//')}/operations`,
        method: 'POST',
        headers: { ...token, 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'software_list', payload: {} }),
      },
      { http: `${core.ready.http}/api/v1/entities`, headers: token },
    ])
    expect(operation?.status).toBe(201)
    const ids = (JSON.parse(entities?.body ?? '[]') as Array<{ id: string }>).map((e) => e.id)
    expect(ids).toEqual(expect.arrayContaining(['device/cli01//', 'device/lan01//', 'device/filler//']))
  })

  it('does not print the password again on the next start, and keeps the same certificate', async () => {
    const fingerprint = core.ready.lan?.fingerprint
    core.child.kill('SIGTERM')
    expect((await core.exited).code).toBe(0)
    const again = await processes.serve(dir, { args: ['--host', '0.0.0.0'], wrap: NETNS })
    expect(again.ready.lan?.fingerprint).toBe(fingerprint)
    expect(again.stdout()).toContain(`TLS certificate SHA-256 fingerprint: ${fingerprint}\n`)
    expect(again.stdout()).not.toContain('password')
    const [good] = await probe(again, [
      { mqtt: lanMqtt(again), ca: certificate, username: 'edgetwin', password },
    ])
    expect(good?.connected).toBe(true)
  })
})

describe('--host with supplied material', () => {
  let certs: TestCerts

  beforeAll(async () => {
    certs = await generateCerts({ serverIps: [LAN] })
    dirs.push(certs.dir)
  })

  it('uses --tls-cert/--tls-key, a --mqtt-password-file from mosquitto_passwd and client certificates with --tls-ca', async () => {
    const dir = dataDir('supplied')
    const passwd = path.join(certs.dir, 'passwd')
    // A thin-edge.io device's mosquitto password file works as it is (PBKDF2-SHA512), next to EdgeTwin's scrypt.
    await run('mosquitto_passwd', ['-c', '-b', passwd, 'field-tech', 's3cret-for-the-line'])
    writeFileSync(
      passwd,
      `${readFileSync(passwd, 'utf8').trimEnd()}\n# EdgeTwin's own hash\nops:${await hashPassword('ops-pass')}\n`,
    )
    const core = await processes.serve(dir, {
      args: [
        ...['--host', LAN, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
        ...['--tls-ca', certs.ca.cert, '--mqtt-password-file', passwd],
      ],
      wrap: NETNS,
    })
    expect(core.stdout()).not.toContain('password')
    expect(core.stdout()).not.toContain('generated')
    const [byPassword, byScrypt, byCertificate, anonymous, loopback] = await probe(core, [
      { mqtt: lanMqtt(core), ca: certs.ca.cert, username: 'field-tech', password: 's3cret-for-the-line' },
      { mqtt: lanMqtt(core), ca: certs.ca.cert, username: 'ops', password: 'ops-pass' },
      { mqtt: lanMqtt(core), ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key },
      { mqtt: lanMqtt(core), ca: certs.ca.cert },
      // A --host naming one address is also listened on at loopback, for the core's own clients.
      { mqtt: core.ready.mqtt, roundTrip: 'te/device/local01///e/hello' },
    ])
    expect(byPassword?.connected).toBe(true)
    expect(byScrypt?.connected).toBe(true)
    expect(byCertificate?.connected).toBe(true)
    expect(anonymous).toMatchObject({ connected: false, code: 5 })
    expect(loopback?.roundTrip?.topic).toBe('te/device/local01///e/hello')
    expect(core.ready.http).toMatch(/^http:\/\/127\.0\.0\.1:/)
  })

  it.each([
    [
      '--tls-cert without --tls-key',
      ['--tls-cert', 'server.crt'],
      2,
      'edgetwin: --tls-cert and --tls-key go together',
    ],
    [
      'a certificate file that cannot be read',
      ['--tls-cert', '/nonexistent/server.crt', '--tls-key', '/nonexistent/server.key'],
      1,
      'edgetwin: --tls-cert: cannot read /nonexistent/server.crt: ENOENT',
    ],
    [
      'a key that is not the certificate’s',
      ['--tls-cert', 'server.crt', '--tls-key', 'client.key'],
      1,
      /^edgetwin: the TLS certificate, key or CA cannot be used: .*key values mismatch/,
    ],
    [
      'a password file without users',
      ['--mqtt-password-file', 'empty'],
      1,
      /has no MQTT user: clients on the network could not connect$/,
    ],
  ])('refuses to start with %s, in one line on stderr', async (_, args, code, message) => {
    const resolved = args.map((arg) =>
      ['server.crt', 'client.key', 'empty'].includes(arg) ? path.join(certs.dir, arg) : arg,
    )
    writeFileSync(path.join(certs.dir, 'empty'), '# nobody\n')
    const cli = processes.run(
      ['serve', '--data-dir', dataDir('refused'), '--host', '0.0.0.0', ...resolved],
      undefined,
      NETNS,
    )
    const exit = await cli.exited
    expect(exit.code).toBe(code)
    const lines = cli.stderr().trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    if (typeof message === 'string') expect(lines[0]).toBe(message)
    else expect(lines[0]).toMatch(message)
  })
})
