import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes'
import { Busy, type PasswordFile } from '../exposure/passwords'
import type { MqttLimits } from './limits'
import type { RefusalLog } from './refusals'
import { retainedCost, type SqlitePersistence } from './sqlite-persistence'

export interface AccessOptions {
  limits: MqttLimits
  refusals: RefusalLog
  persistence: () => SqlitePersistence | undefined
  /** MQTT users for clients beyond loopback. */
  passwords?: PasswordFile
  /** Whether a client certificate the TLS handshake verified (against `--tls-ca`) authenticates. */
  clientCertificates: boolean
}

/** A CONNACK return code with its error, as aedes' authenticate callback takes it. */
function refusal(returnCode: 3 | 4 | 5, message: string): AuthenticateError {
  const error = new Error(message) as AuthenticateError
  error.returnCode = returnCode
  return error
}

/**
 * Who may connect and what a client may make the broker keep: aedes' authenticate and
 * authorizeSubscribe hooks, and the retained-message rules its authorizePublish applies.
 *
 * A connection from a loopback address is trusted as thin-edge.io trusts its local bus: the core's
 * own clients (the simulator, workflow scripts through `tedge mqtt pub`, local connectors) connect
 * without credentials. Any other connection came through TLS (the front door sees to that) and must
 * present a user and password from the password file or a client certificate signed by `--tls-ca`.
 */
export class BrokerAccess {
  private readonly local = new WeakSet<Duplex>()
  private readonly filters = new WeakMap<Client, Set<string>>()

  constructor(private readonly options: AccessOptions) {}

  /** Marks a connection from a loopback address, before aedes reads its CONNECT. */
  trust(stream: Duplex): void {
    this.local.add(stream)
  }

  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    callback: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    const stream = client.conn as Duplex
    const { passwords, refusals, clientCertificates } = this.options
    const address = (stream as TLSSocket).remoteAddress
    const refuse = (error: AuthenticateError) => {
      refusals.note('authentication', error.message, { client: client.id, address, username })
      callback(error, false)
    }
    if (this.local.has(stream) || (clientCertificates && (stream as TLSSocket).authorized))
      callback(null, true)
    else if (username === undefined || password === undefined || !passwords)
      refuse(refusal(5, 'not authorized: a client beyond loopback needs a user name and password'))
    else
      passwords.check(username, password).then(
        (ok) => (ok ? callback(null, true) : refuse(refusal(4, 'bad user name or password'))),
        (error) =>
          refuse(
            error instanceof Busy ? refusal(3, 'server busy checking passwords') : refusal(5, String(error)),
          ),
      )
  }

  readonly authorizeSubscribe = (
    client: Client,
    subscription: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const { limits, refusals } = this.options
    let filters = this.filters.get(client)
    if (!filters) {
      filters = new Set()
      this.filters.set(client, filters)
    }
    const persistence = this.options.persistence()
    const newSession = !client.clean && persistence !== undefined && !persistence.hasSession(client.id)
    // A refused filter gets 0x80 in the SUBACK [MQTT-3.9.3]: the client stays connected.
    const refuse = (kind: 'subscriptions' | 'sessions', reason: string) => {
      refusals.note(kind, reason, { client: client.id, filter: subscription.topic })
      callback(null, null)
    }
    if (filters.has(subscription.topic)) callback(null, subscription)
    else if (filters.size >= limits.maxSubscriptions)
      refuse('subscriptions', `a client may hold ${limits.maxSubscriptions} topic filters`)
    else if (newSession && (persistence?.sessionCount ?? 0) >= limits.maxSessions)
      refuse('sessions', `the broker keeps ${limits.maxSessions} persistent sessions`)
    else {
      filters.add(subscription.topic)
      callback(null, subscription)
    }
  }

  /** aedes' 'unsubscribe' event: the filters a client gave up no longer count. */
  readonly unsubscribed = (topics: string[], client: Client): void => {
    const filters = this.filters.get(client)
    for (const topic of topics) filters?.delete(topic)
  }

  /**
   * Why a client's retained message is not kept, or undefined: too large, or the retained store is full
   * (a message replacing or clearing a retained one of its topic by something no larger always passes).
   */
  retainedError(packet: PublishPacket): string | undefined {
    if (!packet.retain) return undefined
    const { limits } = this.options
    const size = packet.payload.length
    if (size === 0) return undefined
    if (size > limits.maxRetainedSize)
      return `retained payload of ${size} bytes is over the limit of ${limits.maxRetainedSize} bytes`
    const persistence = this.options.persistence()
    if (!persistence) return undefined
    const added = retainedCost(packet.topic, size) - persistence.retainedSize(packet.topic)
    if (added > 0 && persistence.retainedBytes + added > limits.maxRetainedBytes)
      return `the retained store is full (${limits.maxRetainedBytes} bytes)`
    return undefined
  }
}
