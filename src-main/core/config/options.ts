import type { Logger } from 'pino'
import type { SyncConfigInput } from '../api/types'
import type { MqttLimits } from '../broker/limits'

/** Retention of stored history, in days. Rollups outlive raw samples so long charts stay cheap. */
export interface Retention {
  rawDays: number
  minuteDays: number
  hourDays: number
  eventDays: number
  clearedAlarmDays: number
}

export interface CoreOptions {
  dataDir: string
  host: string
  /** 0 picks a free port. */
  mqttPort: number
  httpPort: number
  /** Attach to this broker instead of embedding one. */
  brokerUrl?: string
  /** Run the built-in simulated filling line. */
  sim: boolean
  seed?: number
  /** Bearer token for /api/v1; generated into the data dir on first start when absent. */
  token?: string
  /**
   * Host names (optionally `name:port`) the HTTP API answers to besides the loopback names and the
   * address it listens on: the names a reverse proxy or the LAN uses for this machine.
   */
  allowedHosts: string[]
  /** Largest file accepted on /te/v1/files, in bytes. */
  maxUploadBytes: number
  topicRoot: string
  /** thin-edge.io's agent.entity_store.auto_register (default true). */
  autoRegister: boolean
  /** Entities in the registry, the main device and services included; more are refused. */
  maxEntities: number
  /** Entities one MQTT client may auto-register (since the core started); more are refused. */
  maxAutoRegisteredPerClient: number
  /** Registrations waiting for their parent; more are refused. */
  maxHeldRegistrations: number
  retention: Retention
  logLevel: string
  logger?: Logger
  /** The built UI (index.html and assets) served at `/`. */
  uiDir?: string
  /**
   * Run the main device's operations (EdgeTwin as its agent). Default: on with the embedded broker,
   * off with `brokerUrl`, where the device usually has its own agent.
   */
  agent?: boolean
  /** Where the device's boot id is read, to tell a real restart from a restart of EdgeTwin alone. */
  bootIdFile: string
  /** How long a restarted device may take to go down before the restart fails, in ms. */
  restartTimeoutMs: number
  /** Probability (0..1) that a simulated device fails an operation. */
  simFaults: number
  /**
   * Free space kept on the data dir's volume, in bytes: below it, new data from devices is refused
   * (unacknowledged) rather than written until the disk is full.
   */
  minFreeDiskBytes: number
  /** Cloud sync settings given on the command line: stored in the data dir at start. */
  syncConfig?: SyncConfigInput
  /** Limits of the embedded broker (defaults in broker/limits.ts). */
  mqttLimits?: Partial<MqttLimits>
  /**
   * TLS for clients beyond loopback (a `host` other than loopback): PEM files of the server certificate
   * and its key. Without them, a self-signed pair is generated into DATA_DIR/tls on the first start.
   */
  tlsCertFile?: string
  tlsKeyFile?: string
  /** PEM CA certificates: an MQTT client beyond loopback with a certificate they signed needs no password. */
  tlsCaFile?: string
  /**
   * MQTT users for clients beyond loopback, a passwd-like file (USER:HASH lines, scrypt or
   * mosquitto_passwd's). Without it (and without `tlsCaFile`), one user is generated into DATA_DIR/mqtt-passwd.
   */
  mqttPasswordFile?: string
}

export const defaultRetention: Retention = {
  rawDays: 7,
  minuteDays: 90,
  hourDays: 5 * 365,
  eventDays: 90,
  clearedAlarmDays: 365,
}

export const defaultOptions: Omit<CoreOptions, 'dataDir'> = {
  host: '127.0.0.1',
  mqttPort: 1883,
  httpPort: 8000,
  sim: true,
  topicRoot: 'te',
  autoRegister: true,
  // A large line is a few hundred devices and services: 5,000 is ten times that, and keeps the UI's
  // tree responsive and a flood that fills the registry below twice the idle core's memory.
  maxEntities: 5_000,
  // One gateway or bridge (Modbus, OPC UA) publishing for a whole line; not one client filling the registry.
  maxAutoRegisteredPerClient: 1_000,
  // A full registry replayed by a broker in any order (children before parents) can be held at once.
  maxHeldRegistrations: 5_000,
  allowedHosts: [],
  // Firmware images and log archives are up to a few hundred MB; a bound keeps a runaway or hostile
  // upload from filling the disk the twin lives on.
  maxUploadBytes: 1024 ** 3,
  retention: defaultRetention,
  logLevel: 'info',
  bootIdFile: '/proc/sys/kernel/random/boot_id',
  restartTimeoutMs: 5 * 60_000,
  simFaults: 0,
  // Room for the core's own alarm, sessions, WAL checkpoints and logs once devices are refused.
  minFreeDiskBytes: 64 * 1024 * 1024,
}
