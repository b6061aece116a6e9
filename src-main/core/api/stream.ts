import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import type { CoreParts } from '../app'
import type { HealthStatus } from '../health/derived-health'
import { HealthWatch } from '../health/health-watch'
import type { Change } from '../twin/changes'
import { SESSION_COOKIE } from './auth'
import { type Batch, Coalescer, encodeFrames, toStreamChange } from './stream-frames'
import type { StreamFrame } from './stream-protocol'

/** How often a connection gets a frame, in ms: fast enough to look live, slow enough to coalesce. */
export const STREAM_INTERVAL_MS = 250
/**
 * Live streams at once: a window per operator, a kiosk, a few laptops. Each costs a send per
 * interval; a bound keeps a flood of connections from taking the core's time from ingest.
 */
export const MAX_STREAM_CONNECTIONS = 64
/** WebSocket close code 1013, "Try Again Later" (RFC 6455 §7.4.2, IANA registry): the server is full. */
const TRY_AGAIN_LATER = 1013
/** A client that has not read this much gets no more until it catches up (its changes keep coalescing). */
const MAX_BUFFERED_BYTES = 1024 * 1024

/**
 * How often health is derived again for changes no message announces (a silence past its limit), in
 * ms: well within the 10 s floor of a stale value, and cheap (one pass over the entities).
 */
const HEALTH_SCAN_MS = 2000

/** How often the session behind a cookie-opened stream is checked, in ms: a logout ends it within this. */
const SESSION_CHECK_MS = 10_000
/** Close code for a stream whose session ended (4000–4999 are the application's, RFC 6455 §7.4.2). */
const SESSION_ENDED = 4401

/** A frame's JSON, encoded once for every connection, sent as a text message. */
const send = (socket: WebSocket, frame: Buffer) => socket.send(frame, { binary: false })

interface Client {
  socket: WebSocket
  /** The UI session the stream was opened with (none with the bearer token): it ends with it. */
  session?: string
  /** While the client is behind: what it has missed, coalesced, sent once it has read its backlog. */
  behind?: Coalescer
}

/**
 * The live stream's fan-out: one subscription to the change feed, each change converted once, one
 * coalescer and one encoding per interval, and the same bytes sent to every connection. Only a
 * connection that fell behind keeps its own coalescer (fed with the interval's already coalesced
 * changes), so the cost of a change does not grow with the number of browsers watching.
 */
class StreamHub {
  private readonly clients = new Set<Client>()
  private readonly shared = new Coalescer()
  private readonly health: HealthWatch
  private healthTimer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined
  private sessionTimer: NodeJS.Timeout | undefined

  constructor(private readonly parts: CoreParts) {
    this.health = new HealthWatch(parts)
  }

  /** Adds a connection; false (and closed with a reason) when the core has as many as it takes. */
  add(socket: WebSocket, session: string | undefined): boolean {
    if (this.clients.size >= MAX_STREAM_CONNECTIONS) {
      socket.close(
        TRY_AGAIN_LATER,
        `too many live streams (at most ${MAX_STREAM_CONNECTIONS}): try again later`,
      )
      return false
    }
    const client: Client = { socket, session }
    this.clients.add(client)
    socket.on('close', () => {
      this.clients.delete(client)
      if (this.clients.size === 0) this.idle()
    })
    if (!this.unsubscribe) {
      // Subscribed only while someone watches: with no UI open the change feed collects nothing.
      this.unsubscribe = this.parts.changes.subscribe(this.receive)
      this.timer = setInterval(this.tick, STREAM_INTERVAL_MS)
      this.sessionTimer = setInterval(this.checkSessions, SESSION_CHECK_MS)
      this.health.scan(Date.now())
      this.healthTimer = setInterval(this.scanHealth, HEALTH_SCAN_MS)
    }
    return true
  }

  /** A stream lives no longer than the UI session it was opened with (logout, expiry, a new token). */
  private readonly checkSessions = () => {
    for (const client of this.clients) {
      if (client.session !== undefined && !this.parts.sessions.check(client.session))
        client.socket.close(SESSION_ENDED, 'the session ended: log in again')
    }
  }

  stop(): void {
    for (const { socket } of this.clients) socket.terminate()
    this.clients.clear()
    this.idle()
  }

  private readonly scanHealth = () => {
    for (const { entity, status } of this.health.scan(Date.now()))
      this.shared.add({ kind: 'health', entity, status })
  }

  private readonly receive = (changes: Change[]) => {
    for (const change of changes) {
      const streamed = toStreamChange(this.parts, change)
      if (streamed.kind === 'health') this.health.note(streamed.entity, streamed.status as HealthStatus)
      this.shared.add(streamed)
    }
  }

  private readonly tick = () => {
    const batch = this.shared.take()
    const frames = batch ? encodeFrames(batch, Date.now()) : []
    for (const client of this.clients) {
      if (client.behind) this.catchUp(client, client.behind, batch)
      else if (!batch) continue
      else if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        client.behind = new Coalescer()
        client.behind.addBatch(batch)
      } else for (const frame of frames) send(client.socket, frame)
    }
  }

  /** A client that was behind: what it missed keeps coalescing until it has read its backlog. */
  private catchUp(client: Client, behind: Coalescer, batch: Batch | undefined): void {
    if (batch) behind.addBatch(batch)
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) return
    client.behind = undefined
    const missed = behind.take()
    if (missed) for (const frame of encodeFrames(missed, Date.now())) send(client.socket, frame)
  }

  private idle(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    clearInterval(this.timer)
    clearInterval(this.sessionTimer)
    clearInterval(this.healthTimer)
    this.healthTimer = undefined
    this.timer = undefined
    this.sessionTimer = undefined
    // Nothing left to send to: forget what was collected.
    this.shared.take()
  }
}

/** GET /api/v1/stream: live changes over a WebSocket. */
export function streamRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    const hub = new StreamHub(parts)
    app.addHook('onClose', async () => hub.stop())
    app.get(
      '/api/v1/stream',
      {
        websocket: true,
        schema: { summary: 'WebSocket of coalesced live changes (frames: StreamFrame)', tags: ['stream'] },
      },
      (socket: WebSocket, request) => {
        const session = request.actor === 'ui' ? request.cookies[SESSION_COOKIE] : undefined
        if (!hub.add(socket, session)) return
        // Clients only listen; anything they send is ignored.
        socket.on('message', () => {})
        const hello: StreamFrame = {
          type: 'hello',
          version: parts.version,
          time: Date.now(),
          intervalMs: STREAM_INTERVAL_MS,
        }
        socket.send(JSON.stringify(hello))
      },
    )
  }
}
