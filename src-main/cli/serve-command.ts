import { renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { allowedHostError } from '../core/api/host-policy'
import type { SyncConfigInput } from '../core/api/types'
import { createCore } from '../core/app'
import { defaultOptions, defaultRetention, type Retention } from '../core/config'
import { lanSummary } from '../core/exposure'
import { version } from '../core/version'
import { type CommandSpec, type OptionValues, UsageError } from './command'
import {
  brokerUrl,
  defaultDataDir,
  fileOption,
  fraction,
  integer,
  LIMIT_MAX,
  MQTT_SIZE,
  sizeOption,
  text,
} from './option-values'
import { SERVE_OPTIONS } from './serve-options'
import { onSignals } from './signals'

/** The UI bundle built next to the CLI (dist/ui beside dist/cli.js). */
const UI_DIR = fileURLToPath(new URL('./ui', import.meta.url))

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'run the core: broker, twin store, API and UI',
  usage: '[options]',
  description:
    'Runs EdgeTwin until SIGTERM or Ctrl-C: the embedded MQTT broker (thin-edge.io compatible),\n' +
    'the twin store, the HTTP API (reference at /api/v1/docs) and the UI.',
  options: SERVE_OPTIONS,
  environment: [
    { name: 'EDGETWIN_DATA_DIR', description: 'the data dir when --data-dir is not given' },
    {
      name: 'EDGETWIN_SYNC_PASSWORD',
      description: 'the cloud broker’s password, if no --sync-password-file',
    },
  ],
  examples: [
    {
      command: 'edgetwin serve',
      description: 'the core with the simulated filling line, UI at http://127.0.0.1:8000',
    },
    {
      command: 'edgetwin serve --no-sim --mqtt-port 0 --http-port 0 --ready-file /tmp/ready.json',
      description: 'any free ports, written to /tmp/ready.json once listening (for scripts and tests)',
    },
    {
      command: 'edgetwin serve --broker-url mqtt://127.0.0.1:1883 --no-sim',
      description: 'attach to the broker already running on a thin-edge.io device',
    },
  ],
  run: serve,
}

async function serve(values: OptionValues): Promise<void> {
  const option = (name: string) => text(values[name])
  const logLevel = option('log-level') ?? defaultOptions.logLevel
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level must be trace, debug, info, warn or error, not "${logLevel}"`)
  const dataDir = path.resolve(option('data-dir') ?? defaultDataDir())
  if ((option('tls-cert') === undefined) !== (option('tls-key') === undefined))
    throw new UsageError('--tls-cert and --tls-key go together')
  const file = (name: string) => {
    const value = option(name)
    return value === undefined ? undefined : path.resolve(value)
  }
  const mqttLimits = {
    maxPacketSize: sizeOption(option('mqtt-max-packet-size'), 'mqtt-max-packet-size', MQTT_SIZE),
    maxRetainedSize: sizeOption(option('mqtt-max-retained-size'), 'mqtt-max-retained-size', MQTT_SIZE),
    maxConnections: integer(option('mqtt-max-connections'), 'mqtt-max-connections', 1, 1_000_000),
    maxSubscriptions: integer(option('mqtt-max-subscriptions'), 'mqtt-max-subscriptions', 1, 1_000_000),
  }
  const core = createCore({
    dataDir,
    host: option('host') ?? defaultOptions.host,
    mqttPort: integer(option('mqtt-port'), 'mqtt-port', 0, 65535) ?? defaultOptions.mqttPort,
    httpPort: integer(option('http-port'), 'http-port', 0, 65535) ?? defaultOptions.httpPort,
    brokerUrl: brokerUrl(option('broker-url'), 'broker-url'),
    sim: !values['no-sim'],
    seed: integer(option('seed'), 'seed', 0, 2 ** 32 - 1),
    token: tokenOption(option('token'), option('token-file')),
    allowedHosts: allowedHosts(option('allowed-hosts')),
    maxUploadBytes: sizeOption(option('max-upload-size'), 'max-upload-size') ?? defaultOptions.maxUploadBytes,
    autoRegister: !values['no-auto-register'],
    maxEntities: integer(option('max-entities'), 'max-entities', 1, LIMIT_MAX) ?? defaultOptions.maxEntities,
    maxAutoRegisteredPerClient:
      integer(option('max-auto-registered-per-client'), 'max-auto-registered-per-client', 0, LIMIT_MAX) ??
      defaultOptions.maxAutoRegisteredPerClient,
    maxHeldRegistrations:
      integer(option('max-held-registrations'), 'max-held-registrations', 0, LIMIT_MAX) ??
      defaultOptions.maxHeldRegistrations,
    agent: values['no-agent'] ? false : (values.agent as boolean | undefined),
    simFaults: fraction(option('sim-faults'), 'sim-faults') ?? defaultOptions.simFaults,
    bootIdFile: file('boot-id-file') ?? defaultOptions.bootIdFile,
    retention: parseRetention(option('retention')),
    minFreeDiskBytes:
      sizeOption(option('min-free-disk'), 'min-free-disk', { min: 0 }) ?? defaultOptions.minFreeDiskBytes,
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
  const readyFile = file('ready-file')
  if (readyFile) writeReadyFile(readyFile, ready.lan ? { ...ready, lan } : ready)
  process.stdout.write(
    `EdgeTwin ${version} is ready at ${ready.http} (MQTT ${ready.mqtt}, data in ${dataDir})\n` +
      `Open this one-time login link: ${ready.login}\n`,
  )
  if (ready.lan) process.stdout.write(lanSummary(ready.lan))
}

const RETENTION_KINDS: Record<string, keyof Retention> = {
  raw: 'rawDays',
  minute: 'minuteDays',
  hour: 'hourDays',
  events: 'eventDays',
  alarms: 'clearedAlarmDays',
}

function parseRetention(value: string | undefined): Retention {
  const retention = { ...defaultRetention }
  if (value === undefined) return retention
  const kinds = Object.keys(RETENTION_KINDS)
  const list = `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`
  for (const item of value.split(',')) {
    const match = /^([^=]*)=(.*)$/.exec(item.trim())
    if (!match) throw new UsageError(`--retention: write each kind as KIND=DAYSd, e.g. raw=7d, not "${item}"`)
    const [, kind = '', days = ''] = match
    const key = RETENTION_KINDS[kind]
    if (!key) throw new UsageError(`--retention: "${kind}" is not a kind of history; use ${list}`)
    const number = /^(\d+(?:\.\d+)?)d$/.exec(days)?.[1]
    if (number === undefined)
      throw new UsageError(`--retention: ${kind} needs a number of days like ${kind}=30d, not "${days}"`)
    retention[key] = Number(number)
  }
  return retention
}

/**
 * The cloud sync settings given to `serve`: stored in the data dir (secrets owner-only) and turned
 * on; `--no-sync` turns it off. The password comes from a file (or EDGETWIN_SYNC_PASSWORD) so it is
 * never on a command line other users can read.
 */
function syncOptions(values: OptionValues): SyncConfigInput | undefined {
  const option = (name: string) => text(values[name])
  const password =
    fileOption(option('sync-password-file'), 'sync-password-file')?.trimEnd() ??
    process.env.EDGETWIN_SYNC_PASSWORD
  const input: SyncConfigInput = {
    url: brokerUrl(option('sync-url'), 'sync-url'),
    siteId: option('site-id'),
    username: option('sync-username'),
    password,
    clientCert: fileOption(option('sync-cert'), 'sync-cert'),
    clientKey: fileOption(option('sync-key'), 'sync-key'),
    ca: fileOption(option('sync-ca'), 'sync-ca'),
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
function tokenOption(given: string | undefined, tokenFile: string | undefined): string | undefined {
  if (given !== undefined && tokenFile !== undefined)
    throw new UsageError('--token and --token-file cannot be used together')
  const token = tokenFile === undefined ? given : fileOption(tokenFile, 'token-file')?.trim()
  const name = given === undefined ? '--token-file' : '--token'
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
