/** A message on the local bus, as the core sees it whichever broker carries it. */
export interface BusMessage {
  topic: string
  payload: Buffer
  retain: boolean
  qos: 0 | 1 | 2
  /**
   * A retained message delivered again on subscribe (only with an external broker): state being
   * restored, not a new occurrence.
   */
  replay: boolean
  /**
   * The MQTT client id of the publisher, with the embedded broker; undefined for the core's own
   * publishes (and for every message with an external broker, which does not say who sent it).
   */
  client?: string
  /** Published (or replayed) by the core itself, with the embedded broker: never refused. */
  fromCore?: boolean
}

/**
 * Receives every message on the bus exactly once, including the core's own publishes. `done`
 * releases the sender's acknowledgement (QoS 1 PUBACK): call it once what the message carries is
 * stored, or with the reason it was not, and the sender gets no acknowledgement: the broker closes
 * its connection and the client sends the message again once it has reconnected.
 */
export type BusHandler = (message: BusMessage, done: (error?: Error) => void) => void

export interface PublishOptions {
  retain?: boolean
  qos?: 0 | 1
}

/** The embedded broker's counters, as /api/v1/status shows them. */
export interface BrokerStats {
  connections: number
  maxConnections: number
  /** Bytes of every retained topic and payload. */
  retainedBytes: number
  /** Refused connections, packets, messages and subscriptions, by reason. */
  refused: Record<string, number>
}

export interface Bus {
  /** Listens or connects; resolves with the broker URL connectors should use. */
  start(handler: BusHandler): Promise<string>
  /** Resolves once the broker has taken the message (callers on the hot path need not wait). */
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>
  /** Retained messages matching an MQTT filter, where the broker can tell (embedded only). */
  retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>>
  readonly connected: boolean
  /** Embedded broker only. */
  readonly stats?: BrokerStats
  stop(): Promise<void>
}
