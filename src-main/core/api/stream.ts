import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import type { CoreParts } from '../app'
import type { Change } from '../twin/changes'
import type { StreamChange, StreamFrame } from './stream-protocol'
import { alarmView } from './views'

/** How often a connection gets a frame, in ms: fast enough to look live, slow enough to coalesce. */
const INTERVAL_MS = 250
/** Events per frame; more in one interval are counted, not sent (the events API has them all). */
const MAX_EVENTS_PER_FRAME = 100
/** A client that has not read this much is skipped until it catches up (its changes keep coalescing). */
const MAX_BUFFERED_BYTES = 1024 * 1024

/**
 * Coalesces changes for one connection: the latest state per key (entity, twin key, health, alarm,
 * series) plus a bounded list of events, flushed on a timer. A busy device changes values in place
 * instead of adding frames.
 */
class Coalescer {
  private readonly latest = new Map<string, StreamChange>()
  private events: StreamChange[] = []
  private dropped = 0

  add(change: StreamChange): void {
    switch (change.kind) {
      case 'event':
        if (this.events.length < MAX_EVENTS_PER_FRAME) this.events.push(change)
        else this.dropped++
        return
      case 'measurement': {
        const key = `m\u0000${change.entity}\u0000${change.type}`
        const previous = this.latest.get(key)
        if (previous?.kind === 'measurement' && previous.time <= change.time) {
          this.latest.set(key, { ...change, values: { ...previous.values, ...change.values } })
        } else if (!previous) this.latest.set(key, change)
        return
      }
      case 'twin':
        this.latest.set(`t\u0000${change.entity}\u0000${change.key}`, change)
        return
      case 'alarm':
        this.latest.set(`a\u0000${change.alarm.id}`, change)
        return
      case 'operation':
        this.latest.set(`o\u0000${change.operation.id}`, change)
        return
      default:
        this.latest.set(`${change.kind}\u0000${change.entity}`, change)
    }
  }

  take(): { changes: StreamChange[]; dropped: number } | undefined {
    if (this.latest.size === 0 && this.events.length === 0 && this.dropped === 0) return undefined
    const result = { changes: [...this.latest.values(), ...this.events], dropped: this.dropped }
    this.latest.clear()
    this.events = []
    this.dropped = 0
    return result
  }
}

function toStreamChange(parts: CoreParts, change: Change): StreamChange {
  switch (change.kind) {
    case 'alarm':
      return { ...change, alarm: alarmView(parts, change.alarm, change.entity) }
    case 'measurement': {
      const { names, values, ...rest } = change
      return { ...rest, values: Object.fromEntries(names.map((name, i) => [name, values[i] as number])) }
    }
    case 'event': {
      const { payload: _, ...rest } = change
      return rest
    }
    default:
      return change
  }
}

/** GET /api/v1/stream: live changes over a WebSocket. */
export function streamRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/v1/stream',
      {
        websocket: true,
        schema: { summary: 'WebSocket of coalesced live changes (frames: StreamFrame)', tags: ['stream'] },
      },
      (socket: WebSocket) => {
        const send = (frame: StreamFrame) => socket.send(JSON.stringify(frame))
        const coalescer = new Coalescer()
        const unsubscribe = parts.changes.subscribe((changes) => {
          for (const change of changes) coalescer.add(toStreamChange(parts, change))
        })
        const timer = setInterval(() => {
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return
          const batch = coalescer.take()
          if (batch)
            send({ type: 'changes', time: Date.now(), changes: batch.changes, droppedEvents: batch.dropped })
        }, INTERVAL_MS)
        socket.on('close', () => {
          clearInterval(timer)
          unsubscribe()
        })
        // Clients only listen; anything they send is ignored.
        socket.on('message', () => {})
        send({ type: 'hello', version: parts.version, time: Date.now(), intervalMs: INTERVAL_MS })
      },
    )
  }
}
