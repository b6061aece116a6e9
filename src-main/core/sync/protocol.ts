// The edge ⇄ cloud wire format (docs/sync-protocol.md), shared by the sync service and
// `edgetwin cloud-tail`. Everything lives under one namespace per site; upstream items travel in
// batches, compressed, each item with an id that makes redelivery idempotent.
import { promisify } from 'node:util'
import { gunzip, gunzipSync, gzip } from 'node:zlib'

export const PROTOCOL_VERSION = 1
export const NAMESPACE = 'edgetwin/v1'

/** Kinds of upstream items. */
export const UP_KINDS = [
  'entity',
  'twin',
  'health',
  'measurements',
  'event',
  'alarm',
  'operation',
  'desired',
  'conflict',
  'response',
] as const
export type UpKind = (typeof UP_KINDS)[number]

/** Kinds of downstream requests, on `edgetwin/v1/<site>/down/<kind>`. */
export const DOWN_KINDS = ['desired', 'operation', 'alarm'] as const
export type DownKind = (typeof DOWN_KINDS)[number]

const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/** A site id is one topic level of letters, digits, `_`, `.`, `-` (no wildcards, no `/`). */
export function siteIdError(siteId: string): string | undefined {
  return SITE_ID.test(siteId)
    ? undefined
    : `site id "${siteId}" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`
}

/**
 * Everything upstream shares one topic: MQTT keeps order only within a topic, and items of one
 * entity (its registration, then its data) must stay in order whatever their kinds.
 */
export const upTopic = (site: string) => `${NAMESPACE}/${site}/up`
export const downTopic = (site: string, kind: DownKind) => `${NAMESPACE}/${site}/down/${kind}`
export const downFilter = (site: string) => `${NAMESPACE}/${site}/down/+`

/** The kind of request a downstream topic of the site names, if it is one. */
export function downKind(site: string, topic: string): string | undefined {
  const prefix = `${NAMESPACE}/${site}/down/`
  if (!topic.startsWith(prefix)) return undefined
  const kind = topic.slice(prefix.length)
  return kind.includes('/') ? undefined : kind
}

/** One upstream item, as a cloud consumer reads it. The body's fields depend on `kind`. */
export interface UpItem {
  /** `<site>/<stream>/<seq>`: unique for ever; a consumer keeps the first copy it sees. */
  id: string
  seq: number
  kind: UpKind
  entity: string
  /** When the edge queued the item, epoch ms (a kind's own times are in its fields). */
  queuedAt: number
  [field: string]: unknown
}

/** One MQTT message upstream: a run of consecutive items, oldest first. */
export interface Batch {
  v: number
  site: string
  /** Names one outbox (a data dir's); seqs increase within a stream and never repeat. */
  stream: string
  items: UpItem[]
}

const GZIP_MAGIC_0 = 0x1f
const GZIP_MAGIC_1 = 0x8b
const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)
/** A payload inflating to more than this is refused (a gzip bomb would exhaust memory). */
const MAX_DECODED_BYTES = 16 * 1024 * 1024

/** Batches are gzip; off the event loop (zlib's thread pool) so the core stays responsive. */
export async function encodeBatch(json: string): Promise<Buffer> {
  return gzipAsync(Buffer.from(json), { level: 6 })
}

/** A payload is gzip when it starts with gzip's magic bytes, else UTF-8 JSON (both directions). */
export function isGzip(payload: Buffer): boolean {
  return payload.length >= 2 && payload[0] === GZIP_MAGIC_0 && payload[1] === GZIP_MAGIC_1
}

export async function decodePayload(payload: Buffer): Promise<unknown> {
  const text = (
    isGzip(payload) ? await gunzipAsync(payload, { maxOutputLength: MAX_DECODED_BYTES }) : payload
  ).toString('utf8')
  return JSON.parse(text)
}

export function decodePayloadSync(payload: Buffer): unknown {
  const text = isGzip(payload) ? gunzipSync(payload, { maxOutputLength: MAX_DECODED_BYTES }) : payload
  return JSON.parse(text.toString('utf8'))
}

/** Checks a decoded upstream message; returns the reason it is not a batch. */
export function batchError(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not a JSON object'
  const batch = value as Partial<Batch>
  if (batch.v !== PROTOCOL_VERSION) return `unsupported protocol version ${String(batch.v)}`
  if (typeof batch.site !== 'string' || typeof batch.stream !== 'string') return 'missing site or stream'
  if (!Array.isArray(batch.items)) return 'missing items'
  for (const item of batch.items) {
    if (!Number.isSafeInteger(item?.seq) || item.seq < 1) return 'an item lacks its seq (a positive integer)'
    if (typeof item.id !== 'string' || typeof item.entity !== 'string' || typeof item.queuedAt !== 'number')
      return `item ${item.seq} lacks its id, entity or queuedAt`
    if (!UP_KINDS.includes(item.kind)) return `item ${item.seq} has an unknown kind "${String(item.kind)}"`
  }
  return undefined
}

/**
 * Drops redelivered items: per site and stream, seqs only grow on the one upstream topic (the edge
 * sends in order and resends from its oldest unacknowledged item), so anything at or below the
 * highest seq seen is a copy.
 */
export class Deduplicator {
  private readonly highest = new Map<string, number>()

  fresh(batch: Batch): UpItem[] {
    const key = `${batch.site}\u0000${batch.stream}`
    let last = this.highest.get(key) ?? 0
    const result: UpItem[] = []
    for (const item of batch.items) {
      if (item.seq <= last) continue
      last = item.seq
      result.push(item)
    }
    this.highest.set(key, last)
    return result
  }
}

/** Downstream requests, as the cloud sends them (docs/sync-protocol.md). */
export interface DownRequestBase {
  /** Unique per request; a request seen before is answered `duplicate` and not applied again. */
  id: string
  entity: string
  /** Who asked, shown in the audit trail and conflicts, e.g. `cloud:alice`. */
  origin?: string
}

export interface DesiredRequest extends DownRequestBase {
  /** New values by property name; `null` removes one. */
  properties: Record<string, unknown>
  /** The desired version the cloud last saw; properties the edge changed after it are in conflict. */
  baseVersion?: number
  /** Hybrid logical clock of the change (for last-writer-wins); else `time`, else arrival time. */
  hlc?: string
  time?: number
}

export interface OperationRequestMessage extends DownRequestBase {
  operation: string
  payload?: Record<string, unknown>
}

export interface AlarmRequest extends DownRequestBase {
  type: string
  action: 'acknowledge' | 'clear' | 'shelve' | 'unshelve' | 'comment'
  /** For `shelve`: how long, 5 to 1440. */
  minutes?: number
  /** For `shelve`: why. */
  reason?: string
  /** For `comment`. */
  text?: string
}
