import { defaultOptions } from '../core/config'
import type { OptionSpec } from './command'
import { platformDataDir } from './option-values'

const LIMITS = 'MQTT limits (SIZE in bytes, or with K or M for KiB or MiB)'
const LAN =
  'Beyond loopback (with a --host that is not loopback: TLS and MQTT authentication for other\n' +
  'machines; loopback clients keep plain MQTT and HTTP without credentials)'
const SYNC = 'Cloud sync (stored in DATA_DIR/sync.json, owner-only, and turned on)'

/** The options of `edgetwin serve`, as parsed and as shown by `edgetwin serve --help`. */
export const SERVE_OPTIONS: OptionSpec[] = [
  {
    name: 'data-dir',
    value: 'DIR',
    description: 'where all state lives; the running core also writes its\naddresses there (running.json)',
    default: `$EDGETWIN_DATA_DIR, else ${platformDataDir()}`,
  },
  { name: 'host', value: 'HOST', description: 'address to listen on', default: defaultOptions.host },
  {
    name: 'mqtt-port',
    value: 'PORT',
    description: 'MQTT port of the embedded broker, 0 = any free port',
    default: String(defaultOptions.mqttPort),
  },
  {
    name: 'http-port',
    value: 'PORT',
    description: 'HTTP port of the API and UI, 0 = any free port',
    default: String(defaultOptions.httpPort),
  },
  {
    name: 'broker-url',
    value: 'URL',
    description: 'attach to an existing broker (mqtt://host:port) instead of\nembedding one',
  },
  { name: 'no-sim', description: 'do not run the built-in simulated filling line' },
  { name: 'seed', value: 'N', description: 'seed of the simulated equipment (same seed, same behaviour)' },
  {
    name: 'token-file',
    value: 'FILE',
    description: 'read the API bearer token from FILE',
    default: 'generated once into DATA_DIR/token',
  },
  {
    name: 'token',
    value: 'TOKEN',
    description: 'the token on the command line: other users of the machine\ncan read it there',
  },
  {
    name: 'allowed-hosts',
    value: 'LIST',
    description: 'host names the HTTP API also answers to, e.g.\nedge.example,gw.local:8443',
    default:
      'loopback names and the --host address; with 0.0.0.0 also\nthis machine’s addresses and host name',
  },
  {
    name: 'max-upload-size',
    value: 'SIZE',
    description: 'largest file accepted on /te/v1/files, e.g. 200M, 4G',
    default: '1G',
  },
  { name: 'no-auto-register', description: 'do not auto-register unknown default-scheme entities' },
  {
    name: 'max-entities',
    value: 'N',
    description: 'entities registered at most, main device and services included',
    default: String(defaultOptions.maxEntities),
  },
  {
    name: 'max-auto-registered-per-client',
    value: 'N',
    description: 'entities one MQTT client may auto-register',
    default: String(defaultOptions.maxAutoRegisteredPerClient),
  },
  {
    name: 'max-held-registrations',
    value: 'N',
    description: 'registrations waiting for their parent at most',
    default: String(defaultOptions.maxHeldRegistrations),
  },
  { name: 'agent', description: 'run the main device’s operations', default: 'on, off with --broker-url' },
  { name: 'no-agent', description: 'do not run the main device’s operations' },
  {
    name: 'sim-faults',
    value: 'RATE',
    description: 'share of simulated operations that fail, 0 to 1',
    default: '0',
  },
  {
    name: 'boot-id-file',
    value: 'FILE',
    description: 'where the device’s boot id is read',
    default: defaultOptions.bootIdFile,
  },
  {
    name: 'retention',
    value: 'LIST',
    description: 'history kept per kind, KIND=DAYSd with KIND raw, minute, hour,\nevents or alarms',
    default: 'raw=7d,minute=90d,hour=1825d,events=90d,alarms=365d',
  },
  {
    name: 'min-free-disk',
    value: 'SIZE',
    description:
      'free space kept on the data dir’s volume, e.g. 64MiB, 1GiB: below\nit, new data from devices is refused rather than acknowledged',
    default: '64MiB',
  },
  {
    name: 'ready-file',
    value: 'FILE',
    description: 'write {"http","mqtt","pid","token","login"} here once listening\n(mode 0600)',
  },
  {
    name: 'log-level',
    value: 'LEVEL',
    description: 'trace, debug, info, warn or error',
    default: defaultOptions.logLevel,
  },
  {
    name: 'mqtt-max-packet-size',
    value: 'SIZE',
    description: 'largest packet a client may send; a larger one closes its\nconnection',
    default: '256K',
    group: LIMITS,
  },
  {
    name: 'mqtt-max-retained-size',
    value: 'SIZE',
    description: 'largest retained payload; a larger one is refused on te/errors',
    default: '128K',
    group: LIMITS,
  },
  {
    name: 'mqtt-max-connections',
    value: 'N',
    description: 'MQTT connections at once',
    default: 'from the descriptor limit, a quarter kept back',
    group: LIMITS,
  },
  {
    name: 'mqtt-max-subscriptions',
    value: 'N',
    description: 'topic filters one client may hold',
    default: '1000',
    group: LIMITS,
  },
  {
    name: 'tls-cert',
    value: 'FILE',
    description: 'server certificate (PEM, with its chain), with --tls-key FILE',
    default: 'a self-signed pair generated into DATA_DIR/tls',
    group: LAN,
  },
  { name: 'tls-key', value: 'FILE', description: 'the private key of --tls-cert (PEM)', group: LAN },
  {
    name: 'tls-ca',
    value: 'FILE',
    description: 'CA certificate(s): MQTT clients with a certificate they signed\nneed no password',
    group: LAN,
  },
  {
    name: 'mqtt-password-file',
    value: 'FILE',
    description: 'MQTT users, USER:HASH lines (mosquitto_passwd’s work)',
    default: 'one user generated into DATA_DIR/mqtt-passwd, its password\nshown once; none with --tls-ca',
    group: LAN,
  },
  {
    name: 'sync-url',
    value: 'URL',
    description: 'the cloud MQTT broker: mqtt://, mqtts://, ws:// or wss://',
    group: SYNC,
  },
  { name: 'site-id', value: 'ID', description: 'this site’s namespace on the cloud broker', group: SYNC },
  { name: 'sync-username', value: 'NAME', description: 'user name for the cloud broker', group: SYNC },
  {
    name: 'sync-password-file',
    value: 'FILE',
    description: 'read the password from FILE (or set EDGETWIN_SYNC_PASSWORD)',
    group: SYNC,
  },
  {
    name: 'sync-cert',
    value: 'FILE',
    description: 'client certificate (PEM), with --sync-key FILE',
    group: SYNC,
  },
  { name: 'sync-key', value: 'FILE', description: 'the private key of --sync-cert (PEM)', group: SYNC },
  {
    name: 'sync-ca',
    value: 'FILE',
    description: 'CA certificate(s) to trust for the cloud broker (PEM)',
    group: SYNC,
  },
  { name: 'no-sync', description: 'turn cloud sync off (its settings stay)', group: SYNC },
]
