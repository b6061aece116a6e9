import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** What one client, and all of them together, may make the embedded broker hold. */
export interface MqttLimits {
  /**
   * Largest packet a client may send, in bytes (fixed header included), enforced as the packet's
   * header arrives, before any of it is buffered. A larger one closes the connection: MQTT 3.1.1 has
   * no way to refuse a packet but that.
   */
  maxPacketSize: number
  /** Largest payload of a retained message from a client, in bytes; refused with a reason on te/errors. */
  maxRetainedSize: number
  /**
   * Retained messages kept in all, in bytes as the database holds them: payloads, topics twice (row and
   * index) and 256 bytes each (sqlite-persistence.ts retainedCost). It bounds the retained topics the
   * broker keeps in memory too.
   */
  maxRetainedBytes: number
  /** MQTT connections at once, TLS handshakes included; more are closed as soon as accepted. */
  maxConnections: number
  /** Topic filters one client may hold; more are refused in the SUBACK (0x80). */
  maxSubscriptions: number
  /** QoS 1/2 messages kept for one persistent session (clean=false); newer ones are dropped, as mosquitto does. */
  maxQueuedMessages: number
  /** Persistent sessions (client ids with clean=false) the broker keeps; a new one beyond is refused. */
  maxSessions: number
}

/**
 * The cloud brokers thin-edge.io maps to cap a message at 128 KB (AWS IoT Core) and 256 KB (Azure
 * IoT Hub), and thin-edge.io moves files over HTTP, not MQTT: its largest messages are command
 * results such as a software list (about 40 KB for 1,000 packages).
 */
export const DEFAULT_MAX_PACKET_SIZE = 256 * 1024
/**
 * A retained message is kept and replayed to every new subscriber. Registrations, twin fragments,
 * alarms and health are a few hundred bytes; the largest retained thin-edge.io messages are command
 * results (a child device's software list of 3,000 packages fits).
 */
export const DEFAULT_MAX_RETAINED_SIZE = 128 * 1024
/** Thousands of devices' registrations, twin fragments, alarms and capabilities fit many times over. */
export const DEFAULT_MAX_RETAINED_BYTES = 64 * 1024 * 1024
/** thin-edge.io's components hold a few dozen filters each; a dashboard one per device and channel. */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1000
/** mosquitto's max_queued_messages default. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1000
export const DEFAULT_MAX_SESSIONS = 1000
/** Connections when the descriptor limit cannot be read (Windows has no such limit). */
const FALLBACK_MAX_CONNECTIONS = 1000
/** Beyond this many connections the broker's memory, not descriptors, is the limit (about 30 KB each). */
const CEILING_MAX_CONNECTIONS = 10_000

/**
 * The open-descriptor limit of this process: `Max open files` in /proc/self/limits on Linux,
 * `ulimit -n` (inherited by the shell) elsewhere but Windows. Undefined when it cannot be told.
 */
export function descriptorLimit(): number | undefined {
  if (process.platform === 'win32') return undefined
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (line) return line[1] === 'unlimited' ? undefined : Number(line[1])
  } catch {
    // Not Linux: ask the shell, which inherits this process's limit.
  }
  const answer = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 })
  const n = Number(answer.stdout?.trim())
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/**
 * MQTT connections allowed with a descriptor limit: every connection is a descriptor, so a quarter
 * (at least 128) stays for what must keep working when MQTT clients take the rest: HTTP clients and
 * the UI, the SQLite database and its WAL, log files, workflow scripts and plugins with their pipes,
 * file transfers.
 */
export function connectionsFor(descriptors: number | undefined): number {
  if (descriptors === undefined) return FALLBACK_MAX_CONNECTIONS
  const reserve = Math.max(128, Math.ceil(descriptors / 4))
  return Math.min(CEILING_MAX_CONNECTIONS, Math.max(16, descriptors - reserve))
}

export function resolveLimits(given: Partial<MqttLimits> = {}): MqttLimits {
  return {
    maxPacketSize: given.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    maxRetainedSize: given.maxRetainedSize ?? DEFAULT_MAX_RETAINED_SIZE,
    maxRetainedBytes: given.maxRetainedBytes ?? DEFAULT_MAX_RETAINED_BYTES,
    maxConnections: given.maxConnections ?? connectionsFor(descriptorLimit()),
    maxSubscriptions: given.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS,
    maxQueuedMessages: given.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES,
    maxSessions: given.maxSessions ?? DEFAULT_MAX_SESSIONS,
  }
}
