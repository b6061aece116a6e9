import type { CoreParts } from '../app'
import { deriveHealth } from '../health/derived-health'
import { statusOf } from '../health/health-watch'
import type { Change } from '../twin/changes'
import type { StreamChange } from './stream-protocol'
import { alarmView } from './views'

/** Events per frame; more in one interval are counted, not sent (the events API has them all). */
export const MAX_EVENTS_PER_FRAME = 100
/**
 * Largest change in a frame, in bytes of JSON. A change is a few hundred bytes; a device can still
 * send an alarm text or a twin value of megabytes, which is cut short rather than pushed to every
 * browser on every change.
 */
export const MAX_CHANGE_BYTES = 16 * 1024
/** Texts of a cut-short change keep this many characters. */
const CUT_TEXT_CHARS = 1024
/** A frame holds changes up to about this many bytes; more in one interval go in further frames. */
export const MAX_FRAME_BYTES = 256 * 1024

export interface Batch {
  changes: StreamChange[]
  dropped: number
}

/**
 * Coalesces changes: the latest state per key (entity, twin key, health, alarm, series) plus a
 * bounded list of events, taken once per interval. A busy device changes values in place instead
 * of adding frames.
 */
export class Coalescer {
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

  /** Adds what another coalescer took (a connection that fell behind catches up from these). */
  addBatch(batch: Batch): void {
    for (const change of batch.changes) this.add(change)
    this.dropped += batch.dropped
  }

  take(): Batch | undefined {
    if (this.latest.size === 0 && this.events.length === 0 && this.dropped === 0) return undefined
    const result = { changes: [...this.latest.values(), ...this.events], dropped: this.dropped }
    this.latest.clear()
    this.events = []
    this.dropped = 0
    return result
  }
}

/** A committed change as the stream sends it; made once per change, whatever the number of clients. */
export function toStreamChange(parts: CoreParts, change: Change): StreamChange {
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
    case 'health':
      // The UI shows the derived health: a reported `down` may already be superseded by data.
      return { ...change, status: statusOf(deriveHealth(parts, change.entity, Date.now())) }
    default:
      return change
  }
}

const cut = (text: string) => (text.length > CUT_TEXT_CHARS ? `${text.slice(0, CUT_TEXT_CHARS)}…` : text)

/** The change with its unbounded parts cut short or left out. */
function shortened(change: StreamChange): StreamChange {
  switch (change.kind) {
    case 'alarm':
      return {
        ...change,
        alarm: { ...change.alarm, text: cut(change.alarm.text), payload: null },
        truncated: true,
      }
    case 'event':
      return { ...change, text: cut(change.text), truncated: true }
    case 'twin':
      return { ...change, value: null, truncated: true }
    case 'health':
      return { ...change, status: cut(change.status), truncated: true }
    case 'operation': {
      const { operation } = change
      const reason = operation.reason === null ? null : cut(operation.reason)
      return { ...change, operation: { ...operation, payload: {}, reason }, truncated: true }
    }
    case 'measurement': {
      const values = Object.fromEntries(Object.entries(change.values).slice(0, 100))
      return { ...change, values, truncated: true }
    }
    default:
      return change
  }
}

/**
 * The JSON of one interval's changes as frames of about MAX_FRAME_BYTES at most, each change encoded
 * once and cut short when larger than MAX_CHANGE_BYTES. Built once per interval and sent as is to
 * every connection.
 */
export function encodeFrames(batch: Batch, time: number): Buffer[] {
  const encoded: string[] = []
  let omitted = 0
  for (const change of batch.changes) {
    let json = JSON.stringify(change)
    if (Buffer.byteLength(json) > MAX_CHANGE_BYTES) {
      json = JSON.stringify(shortened(change))
      if (Buffer.byteLength(json) > MAX_CHANGE_BYTES) {
        omitted++
        continue
      }
    }
    encoded.push(json)
  }
  const frames: Buffer[] = []
  const flush = (items: string[], first: boolean) => {
    const extra = first && omitted > 0 ? `,"omittedChanges":${omitted}` : ''
    const dropped = first ? batch.dropped : 0
    frames.push(
      Buffer.from(
        `{"type":"changes","time":${time},"changes":[${items.join(',')}],"droppedEvents":${dropped}${extra}}`,
      ),
    )
  }
  let items: string[] = []
  let bytes = 0
  for (const json of encoded) {
    if (items.length > 0 && bytes + json.length > MAX_FRAME_BYTES) {
      flush(items, frames.length === 0)
      items = []
      bytes = 0
    }
    items.push(json)
    bytes += json.length
  }
  if (items.length > 0 || frames.length === 0) flush(items, frames.length === 0)
  return frames
}
