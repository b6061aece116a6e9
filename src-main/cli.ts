import { renameSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { createCore } from './core/app'
import { defaultOptions, defaultRetention, type Retention } from './core/config'
import { createSimulator } from './core/sim'
import { version } from './core/version'

const USAGE = `EdgeTwin ${version} — a local digital twin for industrial equipment

Usage:
  edgetwin serve [options]        run the core: broker, twin store, API and UI
  edgetwin sim --url URL [options]  run the simulated equipment against any MQTT broker
  edgetwin mqtt pub [-r] [-q 0|1] TOPIC MESSAGE   publish one message (as \`tedge mqtt pub\`)
  edgetwin --version | --help

serve options:
  --data-dir DIR         where all state lives (default: ${defaultDataDir()})
  --host HOST            address to listen on (default: 127.0.0.1)
  --mqtt-port PORT       MQTT port of the embedded broker, 0 = any free port (default: 1883)
  --http-port PORT       HTTP port of the API and UI, 0 = any free port (default: 8000)
  --broker-url URL       attach to an existing broker (mqtt://host:port) instead of embedding one
  --no-sim               do not run the built-in simulated filling line
  --seed N               seed of the simulated equipment (same seed, same behaviour)
  --token TOKEN          API bearer token (default: generated once into DATA_DIR/token)
  --no-auto-register     do not auto-register unknown default-scheme entities
  --agent, --no-agent    run the main device's operations (default: on, off with --broker-url)
  --sim-faults RATE      share of simulated operations that fail, 0 to 1 (default: 0)
  --boot-id-file FILE    where the device's boot id is read (default: /proc/sys/kernel/random/boot_id)
  --retention LIST       history kept, e.g. raw=7d,minute=90d,hour=1825d,events=90d,alarms=365d
  --ready-file FILE      write {"http","mqtt","pid","token"} here once listening
  --log-level LEVEL      trace, debug, info, warn, error (default: info)

sim options:
  --url URL              broker to publish to (required)
  --devices N            extra child devices for load tests (default: 0)
  --rate HZ              measurement messages per second per load device (default: 1)
  --seed N               seed (default: random)
  --duration SECONDS     stop after this long and print what was published
`

class UsageError extends Error {}

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

function brokerUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  if (!/^(mqtts?|wss?|tcp):\/\/[^/]+/.test(value))
    throw new UsageError(`--${name} must be a URL like mqtt://host:1883, not "${value}"`)
  return value
}

function writeReadyFile(file: string, content: object): void {
  const temp = `${file}.tmp-${process.pid}`
  writeFileSync(temp, JSON.stringify(content))
  renameSync(temp, file)
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
      'no-auto-register': { type: 'boolean' },
      agent: { type: 'boolean' },
      'no-agent': { type: 'boolean' },
      'sim-faults': { type: 'string' },
      'boot-id-file': { type: 'string' },
      retention: { type: 'string' },
      'ready-file': { type: 'string' },
      'log-level': { type: 'string' },
    },
  })
  const logLevel = values['log-level'] ?? defaultOptions.logLevel
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be trace, debug, info, warn or error, not "${logLevel}"`)
  }
  if (values.token !== undefined && values.token.length < 16)
    throw new UsageError('--token must have at least 16 characters')
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir())
  const core = createCore({
    dataDir,
    host: values.host ?? defaultOptions.host,
    mqttPort: integer(values['mqtt-port'], 'mqtt-port', 0, 65535) ?? defaultOptions.mqttPort,
    httpPort: integer(values['http-port'], 'http-port', 0, 65535) ?? defaultOptions.httpPort,
    brokerUrl: brokerUrl(values['broker-url'], 'broker-url'),
    sim: !values['no-sim'],
    seed: integer(values.seed, 'seed', 0, 2 ** 32 - 1),
    token: values.token,
    autoRegister: !values['no-auto-register'],
    agent: values['no-agent'] ? false : values.agent,
    simFaults: fraction(values['sim-faults'], 'sim-faults') ?? defaultOptions.simFaults,
    bootIdFile: values['boot-id-file'] ? path.resolve(values['boot-id-file']) : defaultOptions.bootIdFile,
    retention: parseRetention(values.retention),
    logLevel,
    uiDir: UI_DIR,
  })
  onSignals(() => core.stop())
  const ready = await core.start()
  if (values['ready-file']) writeReadyFile(path.resolve(values['ready-file']), ready)
  process.stdout.write(
    `EdgeTwin ${version} is ready at ${ready.http} (MQTT ${ready.mqtt}, data in ${dataDir})\n` +
      `Open this one-time login link: ${ready.login}\n`,
  )
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

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serve(rest)
    case 'mqtt':
      return mqttCommand(rest)
    case 'sim':
      return sim(rest)
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
