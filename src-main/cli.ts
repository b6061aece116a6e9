import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { allowedHostError } from './core/api/host-policy'
import type { SyncConfigInput } from './core/api/types'
import { createCore } from './core/app'
import { defaultOptions, defaultRetention, type Retention } from './core/config'
import { formatSize, parseSize } from './core/config/size'
import { lanSummary } from './core/exposure'
import { createSimulator } from './core/sim'
import { runCloudTail } from './core/sync/cloud-tail'
import { siteIdError, UP_KINDS, type UpKind } from './core/sync/protocol'
import { version } from './core/version'

const USAGE = `EdgeTwin ${version} — a local digital twin for industrial equipment

Usage:
  edgetwin serve [options]        run the core: broker, twin store, API and UI
  edgetwin sim --url URL [options]  run the simulated equipment against any MQTT broker
  edgetwin mqtt pub [-r] [-q 0|1] TOPIC MESSAGE   publish one message (as \`tedge mqtt pub\`)
  edgetwin cloud-tail --url URL --site-id ID [options]  print what a site sends to the cloud broker
  edgetwin --version | --help

serve options:
  --data-dir DIR         where all state lives (default: ${defaultDataDir()})
  --host HOST            address to listen on (default: 127.0.0.1)
  --mqtt-port PORT       MQTT port of the embedded broker, 0 = any free port (default: 1883)
  --http-port PORT       HTTP port of the API and UI, 0 = any free port (default: 8000)
  --broker-url URL       attach to an existing broker (mqtt://host:port) instead of embedding one
  --no-sim               do not run the built-in simulated filling line
  --seed N               seed of the simulated equipment (same seed, same behaviour)
  --token-file FILE      read the API bearer token from FILE (default: generated once into DATA_DIR/token)
  --token TOKEN          the token on the command line: other users of the machine can read it there
  --allowed-hosts LIST   host names the HTTP API also answers to, e.g. edge.example,gw.local:8443
                         (default: loopback names and the --host address; with 0.0.0.0 also this
                         machine's addresses and host name)
  --max-upload-size SIZE largest file accepted on /te/v1/files, e.g. 200M, 4G (default: 1G)
  --no-auto-register     do not auto-register unknown default-scheme entities
  --max-entities N       entities registered at most, main device and services included (default: ${defaultOptions.maxEntities})
  --max-auto-registered-per-client N
                         entities one MQTT client may auto-register (default: ${defaultOptions.maxAutoRegisteredPerClient})
  --max-held-registrations N
                         registrations waiting for their parent at most (default: ${defaultOptions.maxHeldRegistrations})
  --agent, --no-agent    run the main device's operations (default: on, off with --broker-url)
  --sim-faults RATE      share of simulated operations that fail, 0 to 1 (default: 0)
  --boot-id-file FILE    where the device's boot id is read (default: /proc/sys/kernel/random/boot_id)
  --retention LIST       history kept, e.g. raw=7d,minute=90d,hour=1825d,events=90d,alarms=365d
  --min-free-disk SIZE   free space kept on the data dir's volume, e.g. 64MiB, 1GiB: below it, new
                         data from devices is refused rather than acknowledged (default: 64MiB)
  --ready-file FILE      write {"http","mqtt","pid","token","login"} here once listening (mode 0600)
  --log-level LEVEL      trace, debug, info, warn, error (default: info)

MQTT limits (serve; SIZE in bytes, or with K or M for KiB or MiB):
  --mqtt-max-packet-size SIZE     largest packet a client may send; a larger one closes its connection (default: 256K)
  --mqtt-max-retained-size SIZE   largest retained payload; a larger one is refused on te/errors (default: 128K)
  --mqtt-max-connections N        MQTT connections at once (default: from the descriptor limit, a quarter kept back)
  --mqtt-max-subscriptions N      topic filters one client may hold (default: 1000)

beyond loopback (serve with a --host that is not loopback: TLS and MQTT authentication for other machines;
loopback clients keep plain MQTT and HTTP without credentials):
  --tls-cert FILE        server certificate (PEM, with its chain), with --tls-key FILE its private key
                         (default: a self-signed pair generated into DATA_DIR/tls on the first start)
  --tls-ca FILE          CA certificate(s): MQTT clients with a certificate they signed need no password
  --mqtt-password-file F MQTT users, USER:HASH lines (mosquitto_passwd's work) (default: one user generated
                         into DATA_DIR/mqtt-passwd, its password shown once; none with --tls-ca)

cloud sync (serve; stored in DATA_DIR/sync.json, owner-only, and turned on):
  --sync-url URL         the cloud MQTT broker: mqtt://, mqtts://, ws:// or wss://
  --site-id ID           this site's namespace on the cloud broker (edgetwin/v1/ID/…)
  --sync-username NAME   user name for the cloud broker
  --sync-password-file F read the password from F (or set EDGETWIN_SYNC_PASSWORD)
  --sync-cert FILE       client certificate (PEM), with --sync-key FILE its private key
  --sync-ca FILE         CA certificate(s) to trust for the cloud broker (PEM)
  --no-sync              turn cloud sync off (its settings stay)

sim options:
  --url URL              broker to publish to (required)
  --devices N            extra child devices for load tests (default: 0)
  --rate HZ              measurement messages per second per load device (default: 1)
  --seed N               seed (default: random)
  --duration SECONDS     stop after this long and print what was published

cloud-tail options (one JSON line per upstream item on stdout, each item once, in arrival order):
  --url URL              the cloud broker: mqtt://, mqtts://, ws:// or wss://HOST:PORT (required)
  --site-id ID           the site whose items to print (required)
  --username USER        MQTT user name
  --password PASSWORD    MQTT password
  --ca FILE              CA certificate(s) the broker's certificate is checked against, PEM
  --cert FILE            client certificate, PEM (with --key)
  --key FILE             private key of the client certificate, PEM (with --cert)
  --client-id ID         MQTT client id (default: edgetwin-cloud-tail-SITE-RANDOM)
  --session NAME         persistent session (client id edgetwin-cloud-tail-SITE-NAME, clean: false):
                         the broker keeps the items sent while the tail is not running
  --kinds LIST           only items of these kinds, e.g. alarm,event (${UP_KINDS.join(', ')})
  --count N              exit after printing N items
  --timeout SECONDS      exit after this long; status 1 if --count items were not all printed
  --stats                on exit, print {"messages","items","duplicates","invalid","bytes"} to stderr
`

class UsageError extends Error {}

/** The largest count a `--max-*` option takes. */
const LIMIT_MAX = 10_000_000

/** The UI bundle built next to this file (dist/ui beside dist/cli.js). */
const UI_DIR = fileURLToPath(new URL('./ui', import.meta.url))

function defaultDataDir(): string {
  // Electron's userData for an app named EdgeTwin, so the desktop app and the CLI share one twin.
  const home = os.homedir()
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'EdgeTwin')
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'EdgeTwin')
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'EdgeTwin')
}

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`)
  return n
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, not "${value}"`)
  return n
}

function fraction(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (value.trim() === '' || !(number >= 0 && number <= 1))
    throw new UsageError(`--${name} must be between 0 and 1`)
  return number
}

function parseRetention(value: string | undefined): Retention {
  const retention = { ...defaultRetention }
  if (value === undefined) return retention
  const keys: Record<string, keyof Retention> = {
    raw: 'rawDays',
    minute: 'minuteDays',
    hour: 'hourDays',
    events: 'eventDays',
    alarms: 'clearedAlarmDays',
  }
  for (const item of value.split(',')) {
    const match = /^(\w+)=(\d+(?:\.\d+)?)d$/.exec(item.trim())
    const key = match && keys[match[1] as string]
    if (!match || !key)
      throw new UsageError(`--retention: "${item}" is not one of ${Object.keys(keys).join(', ')}=<days>d`)
    retention[key] = Number(match[2])
  }
  return retention
}

/** MQTT packet and payload sizes: a packet header at least; 256 MiB is MQTT's own maximum. */
const MQTT_SIZE = { min: 64, max: 256 * 1024 * 1024 }

function brokerUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  if (!/^(mqtts?|wss?|tcp):\/\/[^/]+/.test(value))
    throw new UsageError(`--${name} must be a URL like mqtt://host:1883, not "${value}"`)
  return value
}

/** A file's content for a `--sync-*` option, read now so a wrong path fails before anything starts. */
function fileOption(file: string | undefined, name: string): string | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

/**
 * The cloud sync settings given to `serve`: stored in the data dir (secrets owner-only) and turned
 * on; `--no-sync` turns it off. The password comes from a file (or EDGETWIN_SYNC_PASSWORD) so it is
 * never on a command line other users can read.
 */
function syncOptions(values: Record<string, string | boolean | undefined>): SyncConfigInput | undefined {
  const text = (name: string) => values[name] as string | undefined
  const password =
    fileOption(text('sync-password-file'), 'sync-password-file')?.trimEnd() ??
    process.env.EDGETWIN_SYNC_PASSWORD
  const input: SyncConfigInput = {
    url: brokerUrl(text('sync-url'), 'sync-url'),
    siteId: text('site-id'),
    username: text('sync-username'),
    password,
    clientCert: fileOption(text('sync-cert'), 'sync-cert'),
    clientKey: fileOption(text('sync-key'), 'sync-key'),
    ca: fileOption(text('sync-ca'), 'sync-ca'),
  }
  const given = Object.values(input).some((value) => value !== undefined)
  if (values['no-sync']) return { ...input, enabled: false }
  return given ? { ...input, enabled: true } : undefined
}

/** Owner-only: it holds the API token and a login code. */
function writeReadyFile(file: string, content: object): void {
  const temp = `${file}.tmp-${process.pid}`
  writeFileSync(temp, JSON.stringify(content), { mode: 0o600 })
  renameSync(temp, file)
}

/** The API token from `--token-file` or `--token` (checked for length), or undefined for the data dir's. */
function tokenOption(values: { token?: string; 'token-file'?: string }): string | undefined {
  if (values.token !== undefined && values['token-file'] !== undefined)
    throw new UsageError('--token and --token-file cannot be used together')
  const token =
    values['token-file'] === undefined ? values.token : fileOption(values['token-file'], 'token-file')?.trim()
  const name = values.token === undefined ? '--token-file' : '--token'
  if (token !== undefined && token.length < 16)
    throw new UsageError(`${name}: the token must have at least 16 characters`)
  return token
}

function allowedHosts(value: string | undefined): string[] {
  if (value === undefined) return []
  const hosts = value.split(',').map((host) => host.trim())
  for (const host of hosts) {
    const error = allowedHostError(host)
    if (error) throw new UsageError(`--allowed-hosts: ${error}`)
  }
  return hosts
}

/**
 * A size in bytes: a number with an optional unit (`500M` and `2G` are binary, as are MiB and GiB),
 * within `min` and `max` (0 is a size only when `min` is 0).
 */
function sizeOption(
  value: string | undefined,
  name: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined
  const bytes = value.trim() === '0' ? 0 : parseSize(value)
  if (bytes === undefined || bytes < min || bytes > max) {
    const range =
      min > 1 || max < Number.MAX_SAFE_INTEGER ? ` from ${formatSize(min)} to ${formatSize(max)}` : ''
    throw new UsageError(`--${name} must be a size like 500M or 2G${range}, not "${value}"`)
  }
  return bytes
}

/** Stops cleanly on SIGTERM/SIGINT; a second signal exits at once. */
function onSignals(stop: () => Promise<void>): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1)
    stopping = true
    stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`edgetwin: error while stopping after ${signal}: ${(error as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      'broker-url': { type: 'string' },
      'no-sim': { type: 'boolean' },
      seed: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'allowed-hosts': { type: 'string' },
      'max-upload-size': { type: 'string' },
      'no-auto-register': { type: 'boolean' },
      'max-entities': { type: 'string' },
      'max-auto-registered-per-client': { type: 'string' },
      'max-held-registrations': { type: 'string' },
      agent: { type: 'boolean' },
      'no-agent': { type: 'boolean' },
      'sim-faults': { type: 'string' },
      'boot-id-file': { type: 'string' },
      retention: { type: 'string' },
      'min-free-disk': { type: 'string' },
      'ready-file': { type: 'string' },
      'log-level': { type: 'string' },
      'sync-url': { type: 'string' },
      'site-id': { type: 'string' },
      'sync-username': { type: 'string' },
      'sync-password-file': { type: 'string' },
      'sync-cert': { type: 'string' },
      'sync-key': { type: 'string' },
      'sync-ca': { type: 'string' },
      'no-sync': { type: 'boolean' },
      'mqtt-max-packet-size': { type: 'string' },
      'mqtt-max-retained-size': { type: 'string' },
      'mqtt-max-connections': { type: 'string' },
      'mqtt-max-subscriptions': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'mqtt-password-file': { type: 'string' },
    },
  })
  const logLevel = values['log-level'] ?? defaultOptions.logLevel
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be trace, debug, info, warn or error, not "${logLevel}"`)
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir())
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    throw new UsageError('--tls-cert and --tls-key go together')
  const file = (name: string) =>
    values[name as 'tls-cert'] === undefined ? undefined : path.resolve(values[name as 'tls-cert'] as string)
  const mqttLimits = {
    maxPacketSize: sizeOption(values['mqtt-max-packet-size'], 'mqtt-max-packet-size', MQTT_SIZE),
    maxRetainedSize: sizeOption(values['mqtt-max-retained-size'], 'mqtt-max-retained-size', MQTT_SIZE),
    maxConnections: integer(values['mqtt-max-connections'], 'mqtt-max-connections', 1, 1_000_000),
    maxSubscriptions: integer(values['mqtt-max-subscriptions'], 'mqtt-max-subscriptions', 1, 1_000_000),
  }
  const core = createCore({
    dataDir,
    host: values.host ?? defaultOptions.host,
    mqttPort: integer(values['mqtt-port'], 'mqtt-port', 0, 65535) ?? defaultOptions.mqttPort,
    httpPort: integer(values['http-port'], 'http-port', 0, 65535) ?? defaultOptions.httpPort,
    brokerUrl: brokerUrl(values['broker-url'], 'broker-url'),
    sim: !values['no-sim'],
    seed: integer(values.seed, 'seed', 0, 2 ** 32 - 1),
    token: tokenOption(values),
    allowedHosts: allowedHosts(values['allowed-hosts']),
    maxUploadBytes: sizeOption(values['max-upload-size'], 'max-upload-size') ?? defaultOptions.maxUploadBytes,
    autoRegister: !values['no-auto-register'],
    maxEntities: integer(values['max-entities'], 'max-entities', 1, LIMIT_MAX) ?? defaultOptions.maxEntities,
    maxAutoRegisteredPerClient:
      integer(values['max-auto-registered-per-client'], 'max-auto-registered-per-client', 0, LIMIT_MAX) ??
      defaultOptions.maxAutoRegisteredPerClient,
    maxHeldRegistrations:
      integer(values['max-held-registrations'], 'max-held-registrations', 0, LIMIT_MAX) ??
      defaultOptions.maxHeldRegistrations,
    agent: values['no-agent'] ? false : values.agent,
    simFaults: fraction(values['sim-faults'], 'sim-faults') ?? defaultOptions.simFaults,
    bootIdFile: values['boot-id-file'] ? path.resolve(values['boot-id-file']) : defaultOptions.bootIdFile,
    retention: parseRetention(values.retention),
    minFreeDiskBytes:
      sizeOption(values['min-free-disk'], 'min-free-disk', { min: 0 }) ?? defaultOptions.minFreeDiskBytes,
    logLevel,
    uiDir: UI_DIR,
    syncConfig: syncOptions(values),
    mqttLimits: Object.fromEntries(Object.entries(mqttLimits).filter(([, value]) => value !== undefined)),
    tlsCertFile: file('tls-cert'),
    tlsKeyFile: file('tls-key'),
    tlsCaFile: file('tls-ca'),
    mqttPasswordFile: file('mqtt-password-file'),
  })
  onSignals(() => core.stop())
  const ready = await core.start()
  const { generatedUser, ...lan } = ready.lan ?? {}
  // The generated password is shown once, here, and never written to the ready file.
  if (values['ready-file'])
    writeReadyFile(path.resolve(values['ready-file']), ready.lan ? { ...ready, lan } : ready)
  process.stdout.write(
    `EdgeTwin ${version} is ready at ${ready.http} (MQTT ${ready.mqtt}, data in ${dataDir})\n` +
      `Open this one-time login link: ${ready.login}\n`,
  )
  if (ready.lan) process.stdout.write(lanSummary(ready.lan))
}

async function sim(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      url: { type: 'string' },
      devices: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      duration: { type: 'string' },
    },
  })
  const url = brokerUrl(values.url, 'url')
  if (!url) throw new UsageError('sim needs --url mqtt://host:port')
  const duration = positive(values.duration, 'duration')
  const simulator = createSimulator({
    url,
    devices: integer(values.devices, 'devices', 0, 100_000) ?? 0,
    rate: positive(values.rate, 'rate') ?? 1,
    seed: integer(values.seed, 'seed', 0, 2 ** 32 - 1),
  })
  const started = Date.now()
  const report = () => {
    const seconds = (Date.now() - started) / 1000
    const { published } = simulator.stats
    process.stdout.write(
      `published ${published} messages in ${seconds.toFixed(1)} s (${Math.round(published / seconds)}/s)\n`,
    )
  }
  onSignals(async () => {
    await simulator.stop()
    report()
  })
  await simulator.start()
  process.stdout.write(`simulating against ${url}\n`)
  if (!simulator.runsLine)
    process.stdout.write('a simulated filling line already runs there: publishing only the load devices\n')
  if (duration) {
    setTimeout(async () => {
      await simulator.stop()
      report()
      process.exit(0)
    }, duration * 1000)
  }
}

/** `edgetwin mqtt pub`: what workflow scripts use (through the `tedge` shim) to publish. */
async function mqttCommand(args: string[]): Promise<void> {
  if (args[0] !== 'pub') throw new UsageError('mqtt: only "pub" is supported')
  const { values, positionals } = parseArgs({
    args: args.slice(1),
    strict: true,
    allowPositionals: true,
    options: {
      retain: { type: 'boolean', short: 'r' },
      qos: { type: 'string', short: 'q' },
      url: { type: 'string' },
    },
  })
  if (positionals.length !== 2) throw new UsageError('mqtt pub needs TOPIC and MESSAGE')
  const [topic, message] = positionals as [string, string]
  const qos = (integer(values.qos, 'qos', 0, 2) ?? 0) as 0 | 1 | 2
  const url = brokerUrl(values.url, 'url') ?? (process.env.EDGETWIN_MQTT_URL || 'mqtt://127.0.0.1:1883')
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000 })
  try {
    await client.publishAsync(topic, message, { qos, retain: values.retain ?? false })
  } finally {
    await client.endAsync()
  }
}

/** `edgetwin cloud-tail`: the site's upstream items as the cloud broker delivers them. */
async function cloudTail(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      url: { type: 'string' },
      'site-id': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'client-id': { type: 'string' },
      session: { type: 'string' },
      kinds: { type: 'string' },
      count: { type: 'string' },
      timeout: { type: 'string' },
      stats: { type: 'boolean' },
    },
  })
  const url = brokerUrl(values.url, 'url')
  if (!url) throw new UsageError('cloud-tail needs --url mqtt://host:port')
  const site = values['site-id']
  if (site === undefined) throw new UsageError('cloud-tail needs --site-id ID')
  const siteError = siteIdError(site)
  if (siteError) throw new UsageError(`--site-id: ${siteError}`)
  if (values.session !== undefined && siteIdError(values.session))
    throw new UsageError('--session must be 1-64 letters, digits, "_", "." or "-"')
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new UsageError('--cert and --key go together')
  const abort = new AbortController()
  // The first signal ends the tail cleanly (the message being printed is acknowledged); a second one exits.
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(1)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  await runCloudTail({
    url,
    siteId: site,
    username: values.username,
    password: values.password,
    caFile: values.ca && path.resolve(values.ca),
    certFile: values.cert && path.resolve(values.cert),
    keyFile: values.key && path.resolve(values.key),
    clientId: values['client-id'],
    session: values.session,
    kinds: values.kinds === undefined ? undefined : parseKinds(values.kinds),
    count: integer(values.count, 'count', 1, Number.MAX_SAFE_INTEGER),
    timeoutSeconds: positive(values.timeout, 'timeout'),
    stats: values.stats,
    signal: abort.signal,
  })
  process.exit(0)
}

function parseKinds(value: string): UpKind[] {
  const kinds = value.split(',').map((kind) => kind.trim())
  for (const kind of kinds) {
    if (!(UP_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`--kinds: "${kind}" is not one of ${UP_KINDS.join(', ')}`)
  }
  return kinds as UpKind[]
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serve(rest)
    case 'mqtt':
      return mqttCommand(rest)
    case 'sim':
      return sim(rest)
    case 'cloud-tail':
      return cloudTail(rest)
    case '--version':
    case '-v':
      process.stdout.write(`${version}\n`)
      return
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE)
      return
    default:
      throw new UsageError(`unknown command "${command}" (try: edgetwin --help)`)
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  // parseArgs reports unknown options and missing values with a code; they are usage errors too.
  const usage =
    error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
  process.stderr.write(`edgetwin: ${error.message}\n`)
  process.exit(usage ? 2 : 1)
})
