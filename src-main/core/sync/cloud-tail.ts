// `edgetwin cloud-tail`: what a cloud consumer of one site sees. It subscribes to the site's upstream
// topics on the cloud broker and prints every item once, one JSON line each, so the edge → cloud path
// can be watched and scripted without a cloud backend.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Writable } from 'node:stream'
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import { type Batch, batchError, Deduplicator, decodePayload, type UpKind, upTopic } from './protocol'

export interface CloudTailOptions {
  /** The cloud broker: mqtt://, mqtts://, ws:// or wss://. */
  url: string
  siteId: string
  username?: string
  password?: string
  /** PEM files, read from disk when the tail starts. */
  certFile?: string
  keyFile?: string
  caFile?: string
  /** Default: `edgetwin-cloud-tail-<site>-<session>` with a session, else with a random suffix. */
  clientId?: string
  /** Names a persistent session (clean: false): the broker queues items while the tail is away. */
  session?: string
  /** Only items of these kinds are printed (all are still de-duplicated). */
  kinds?: readonly UpKind[]
  /** Ends the tail once this many items are printed. */
  count?: number
  /** Ends the tail after this long; with `count` not reached, that is an error. */
  timeoutSeconds?: number
  /** On exit, one JSON line of {@link CloudTailStats} on stderr. */
  stats?: boolean
  /** Ends the tail (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal
  stdout?: Writable
  stderr?: Writable
}

export interface CloudTailStats {
  /** MQTT messages received, redeliveries included. */
  messages: number
  /** Items printed. */
  items: number
  /** Items dropped because their stream already delivered that seq. */
  duplicates: number
  /** Messages skipped because they are not a valid batch. */
  invalid: number
  /** MQTT payload bytes received (compressed size: what the link carried). */
  bytes: number
}

/** mqtt.js's default; the tail retries quietly for as long as it runs. */
const RECONNECT_MS = 1000
/** A CLI that waits 30 s (mqtt.js's default) before saying the broker does not answer is too slow. */
const CONNECT_TIMEOUT_MS = 10_000
/** Seconds; half mqtt.js's default, so a silently dead link is noticed (and reconnected) sooner. */
const KEEPALIVE_S = 30
/** How long a graceful disconnect may take before the socket is just closed. */
const END_GRACE_MS = 2000

type Ending = { reason: 'signal' | 'count' | 'timeout' | 'closed' } | { reason: 'error'; error: Error }

export class CloudTailError extends Error {}

/** Runs the tail until a signal, `count` or `timeoutSeconds`; rejects if it cannot connect at all. */
export async function runCloudTail(options: CloudTailOptions): Promise<CloudTailStats> {
  return new CloudTail(options).run()
}

class CloudTail {
  private readonly stdout: Writable
  private readonly stderr: Writable
  private readonly kinds: ReadonlySet<string> | undefined
  private readonly dedup = new Deduplicator()
  private readonly stats: CloudTailStats = { messages: 0, items: 0, duplicates: 0, invalid: 0, bytes: 0 }
  private client: MqttClient | undefined
  private connectedOnce = false
  private subscribed = false
  private ending: Ending | undefined
  private endingResolve: ((ending: Ending) => void) | undefined
  /** Messages are handled one after the other: decoding is async, and the order is the seq order. */
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly options: CloudTailOptions) {
    this.stdout = options.stdout ?? process.stdout
    this.stderr = options.stderr ?? process.stderr
    this.kinds = options.kinds ? new Set(options.kinds) : undefined
  }

  async run(): Promise<CloudTailStats> {
    const { url, signal, timeoutSeconds } = this.options
    const clientOptions = this.clientOptions()
    const ended = new Promise<Ending>((resolve) => {
      this.endingResolve = resolve
    })
    const onAbort = () => this.end({ reason: 'signal' })
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) onAbort()
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => this.end({ reason: 'timeout' }), timeoutSeconds * 1000)
    const onOutputError = () => this.end({ reason: 'closed' })
    this.stdout.on('error', onOutputError)

    const client = mqtt.connect(url, clientOptions)
    this.client = client
    // Before any packet can arrive: a resumed session's queued messages come right after CONNACK.
    client.handleMessage = (packet, callback) => this.enqueue(packet, callback)
    client.on('connect', (connack) => this.onConnect(connack))
    client.on('error', (error) => this.onError(error))
    client.on('close', () => {
      if (!this.connectedOnce) this.onError(new Error('the broker closed the connection'))
    })

    const ending = await ended
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    // The message being handled is printed (and acknowledged) before the tail disconnects.
    if (ending.reason !== 'error') await this.chain
    await this.close(client)
    this.stdout.off('error', onOutputError)
    if (ending.reason === 'error') throw ending.error
    if (this.options.stats) this.stderr.write(`${JSON.stringify(this.stats)}\n`)
    const { count } = this.options
    if (ending.reason === 'timeout' && count !== undefined && this.stats.items < count)
      throw new CloudTailError(
        `timed out after ${timeoutSeconds} s with ${this.stats.items} of ${count} items printed`,
      )
    return this.stats
  }

  private clientOptions(): IClientOptions {
    const { siteId, session, clientId, username, password } = this.options
    return {
      clientId: clientId ?? `edgetwin-cloud-tail-${siteId}-${session ?? randomBytes(4).toString('hex')}`,
      clean: session === undefined,
      protocolVersion: 4,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      keepalive: KEEPALIVE_S,
      username,
      password,
      ca: readPem(this.options.caFile, 'ca'),
      cert: readPem(this.options.certFile, 'cert'),
      key: readPem(this.options.keyFile, 'key'),
    }
  }

  private onConnect(connack: IConnackPacket): void {
    this.connectedOnce = true
    // Until a SUBACK arrives: a connection lost before it fails the SUBSCRIBE, and mqtt.js then
    // resubscribes only when the broker did not keep the session.
    if (this.subscribed) return
    const filter = upTopic(this.options.siteId)
    this.client?.subscribeAsync(filter, { qos: 1 }).then(
      (granted) => {
        if (this.subscribed) return
        this.subscribed = true
        // MQTT 3.1.1 §3.9.3, return code 0x80: the broker refused the subscription (e.g. its ACL).
        if (granted[0]?.qos === 128) {
          this.end({
            reason: 'error',
            error: new CloudTailError(`${redact(this.options.url)} refused the subscription to ${filter}`),
          })
          return
        }
        const { session } = this.options
        const resumed = connack.sessionPresent ? 'resumed' : 'new'
        this.stderr.write(
          `cloud-tail: subscribed to ${filter} on ${redact(this.options.url)}` +
            `${session === undefined ? '' : ` (session "${session}", ${resumed})`}\n`,
        )
      },
      () => {}, // the connection dropped first; the next connect subscribes again
    )
  }

  /** Before the first connection every failure is final; after it, mqtt.js reconnects quietly. */
  private onError(error: Error): void {
    if (this.connectedOnce) return
    this.end({
      reason: 'error',
      error: new CloudTailError(`cannot connect to ${redact(this.options.url)}: ${describe(error)}`),
    })
  }

  private enqueue(packet: IPublishPacket, acknowledge: (error?: Error) => void): void {
    this.chain = this.chain
      .then(async () => {
        // A message not handled (ending, or --count reached inside it) is not acknowledged: a
        // persistent session gets it again next time.
        if (await this.handle(packet)) acknowledge()
      })
      .catch((error: Error) => {
        // Never expected; but one bad message must not stop the ones behind it.
        if (this.skip(packet.topic, error.message)) acknowledge()
      })
  }

  /** Prints the message's fresh items; true when it is done with (printed or skipped for good). */
  private async handle(packet: IPublishPacket): Promise<boolean> {
    if (this.ending) return false
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    this.stats.messages++
    this.stats.bytes += payload.length
    let value: unknown
    try {
      value = await decodePayload(payload)
    } catch (error) {
      return this.skip(packet.topic, `cannot decode: ${(error as Error).message}`)
    }
    const error = batchError(value)
    if (error) return this.skip(packet.topic, error)
    const batch = value as Batch
    if (batch.site !== this.options.siteId) return this.skip(packet.topic, `batch of site "${batch.site}"`)
    const fresh = this.dedup.fresh(batch)
    this.stats.duplicates += batch.items.length - fresh.length
    const room = (this.options.count ?? Number.POSITIVE_INFINITY) - this.stats.items
    let lines = ''
    let printed = 0
    let complete = true
    for (const item of fresh) {
      if (this.kinds && !this.kinds.has(item.kind)) continue
      if (printed === room) {
        complete = false
        break
      }
      lines += `${JSON.stringify({ ...item, site: batch.site, stream: batch.stream })}\n`
      printed++
    }
    if (lines && !(await write(this.stdout, lines))) {
      this.end({ reason: 'closed' })
      return false
    }
    this.stats.items += printed
    if (printed === room) this.end({ reason: 'count' })
    return complete
  }

  private skip(topic: string, reason: string): true {
    this.stats.invalid++
    this.stderr.write(`cloud-tail: skipped a message on ${topic}: ${reason}\n`)
    return true
  }

  private end(ending: Ending): void {
    if (this.ending) return
    this.ending = ending
    this.endingResolve?.(ending)
  }

  private async close(client: MqttClient): Promise<void> {
    let grace: NodeJS.Timeout | undefined
    const graceful = client.connected && this.ending?.reason !== 'error'
    await Promise.race([
      client.endAsync(!graceful).catch(() => {}),
      new Promise<void>((resolve) => {
        grace = setTimeout(resolve, END_GRACE_MS)
      }),
    ])
    clearTimeout(grace)
    client.stream?.destroy()
  }
}

function readPem(file: string | undefined, option: string): Buffer | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file)
  } catch (error) {
    throw new CloudTailError(`cannot read --${option} ${file}: ${describe(error as Error)}`)
  }
}

/** Resolves false when the output is gone (e.g. `| head` exited: EPIPE). */
function write(stream: Writable, text: string): Promise<boolean> {
  return new Promise((resolve) => stream.write(text, (error) => resolve(!error)))
}

/** One line: system errors by their code (ECONNREFUSED), OpenSSL's by their reason, others by message. */
function describe(error: Error): string {
  // Node's happy eyeballs (`localhost`: ::1 and 127.0.0.1) fails with one error per address.
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0] as Error)
  const { code, syscall } = error as NodeJS.ErrnoException
  if (typeof code === 'string' && (syscall !== undefined || error.message === '')) return code
  // `<hex>:error:<hex>:SSL routines:<function>:<reason>:<file>:<line>:SSL alert number N`
  const reason = /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? error.message
  const text = reason.replace(/\s+/g, ' ').trim()
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text
}

/** A URL as it may be printed: without its password. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}
