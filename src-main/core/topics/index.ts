// The thin-edge.io MQTT topic grammar, both directions, in one place.
// Normative source: thin-edge.io crates/core/tedge_api/src/mqtt_topics.rs (reference §1).

/** An entity topic id always has exactly four segments; an empty segment means "not applicable". */
export const ENTITY_ID_SEGMENTS = 4

export const MAIN_DEVICE = 'device/main//'

/**
 * Longest entity id segment, in UTF-8 bytes. thin-edge.io states no limit; an id a cloud accepts
 * fits (AWS IoT thing names and Azure IoT device ids go to 128 characters), and a flood of ids the
 * size of an MQTT topic (64 KiB) cannot grow the registry and its answers without bound.
 */
export const MAX_ENTITY_SEGMENT_BYTES = 128
/** Longest entity id, slashes included, in UTF-8 bytes: 100,000 ids stay within 26 MB. */
export const MAX_ENTITY_ID_BYTES = 256

export type Channel =
  | { kind: 'registration' }
  | { kind: 'twin'; key: string }
  | { kind: 'config' }
  | { kind: 'measurement'; type: string }
  | { kind: 'measurement-meta'; type: string }
  | { kind: 'event'; type: string }
  | { kind: 'event-meta'; type: string }
  | { kind: 'alarm'; type: string }
  | { kind: 'alarm-meta'; type: string }
  | { kind: 'capability'; operation: string }
  | { kind: 'command'; operation: string; cmdId: string }
  | { kind: 'signal'; type: string }
  | { kind: 'health' }
  | { kind: 'status'; component: string }

export interface ParsedTopic {
  entity: string
  channel: Channel
}

export class TopicError extends Error {}

function hasWildcard(text: string): boolean {
  return text.includes('+') || text.includes('#')
}

/** The reason an entity id (or its segments) is too long; the id itself is not repeated back. */
function lengthError(segments: readonly string[]): string | undefined {
  const bytes = segments.map((segment) => Buffer.byteLength(segment))
  const total = bytes.reduce((sum, n) => sum + n, segments.length - 1)
  if (total > MAX_ENTITY_ID_BYTES)
    return `entity topic id is ${total} bytes long; at most ${MAX_ENTITY_ID_BYTES} are allowed`
  const longest = Math.max(...bytes)
  if (longest > MAX_ENTITY_SEGMENT_BYTES)
    return `an entity topic id segment is ${longest} bytes long; at most ${MAX_ENTITY_SEGMENT_BYTES} are allowed`
  return undefined
}

/**
 * Pads a short entity id to four segments (`device/child01` ≡ `device/child01//`), as thin-edge.io
 * does for `@parent` values and custom schemes. Throws on more than four segments or wildcards.
 */
export function normalizeEntityId(id: string): string {
  if (id.length === 0) throw new TopicError('entity topic id is empty')
  const tooLong = lengthError(id.split('/').slice(0, ENTITY_ID_SEGMENTS))
  if (tooLong) throw new TopicError(tooLong)
  if (hasWildcard(id)) throw new TopicError(`entity topic id "${id}" contains an MQTT wildcard`)
  const segments = id.split('/')
  if (segments.length > ENTITY_ID_SEGMENTS) {
    throw new TopicError(`entity topic id "${id}" has more than ${ENTITY_ID_SEGMENTS} segments`)
  }
  while (segments.length < ENTITY_ID_SEGMENTS) segments.push('')
  if (segments.every((s) => s === '')) throw new TopicError('entity topic id has only empty segments')
  return segments.join('/')
}

/** True for the default identifier scheme (reference §1.2): main, children and their services. */
export function isDefaultScheme(entity: string): boolean {
  const [a, b, c, d] = entity.split('/')
  if (a !== 'device' || !b) return false
  if (c === '' && d === '') return true
  return c === 'service' && !!d
}

/**
 * The parent a default-scheme id implies: a service belongs to its device, a child device to main.
 * Returns undefined for the main device and for ids outside the default scheme.
 */
export function defaultParent(entity: string): string | undefined {
  if (!isDefaultScheme(entity) || entity === MAIN_DEVICE) return undefined
  const [, device, kind] = entity.split('/')
  return kind === 'service' ? `device/${device}//` : MAIN_DEVICE
}

/** The entity type a default-scheme id implies, for auto-registration. */
export function defaultEntityType(entity: string): 'device' | 'child-device' | 'service' | undefined {
  if (!isDefaultScheme(entity)) return undefined
  if (entity === MAIN_DEVICE) return 'device'
  return entity.split('/')[2] === 'service' ? 'service' : 'child-device'
}

function parseChannel(text: string): Channel {
  if (text === '') return { kind: 'registration' }
  const parts = text.split('/')
  const [category, second, third] = parts
  const invalid = () => new TopicError(`unknown channel "${text}"`)
  switch (category) {
    case 'twin':
      if (parts.length !== 2 || !second) throw invalid()
      return { kind: 'twin', key: second }
    case 'config':
      if (parts.length !== 1) throw invalid()
      return { kind: 'config' }
    case 'm':
    case 'e':
    case 'a': {
      // The type may be empty (`te/device/main///m/`) but the slash must be there.
      if (second === undefined || parts.length > 3 || (parts.length === 3 && third !== 'meta'))
        throw invalid()
      const kinds = {
        m: ['measurement', 'measurement-meta'],
        e: ['event', 'event-meta'],
        a: ['alarm', 'alarm-meta'],
      } as const
      const [plain, meta] = kinds[category]
      return { kind: parts.length === 3 ? meta : plain, type: second }
    }
    case 'cmd':
      if (!second || parts.length > 3) throw invalid()
      if (parts.length === 2) return { kind: 'capability', operation: second }
      if (!third) throw invalid()
      return { kind: 'command', operation: second, cmdId: third }
    case 'signal':
      if (parts.length !== 2 || !second) throw invalid()
      return { kind: 'signal', type: second }
    case 'status':
      if (parts.length !== 2 || !second) throw invalid()
      return second === 'health' ? { kind: 'health' } : { kind: 'status', component: second }
    default:
      throw invalid()
  }
}

/**
 * Parses `<root>/<4-segment id>[/<channel>]`. Returns undefined when the topic is outside the root
 * (not ours to judge); throws TopicError with the reason when it is under the root but invalid.
 */
export function parseTopic(topic: string, root = 'te'): ParsedTopic | undefined {
  // `te/errors` carries rejections (reference §1.1); it is not an entity topic.
  if (!topic.startsWith(`${root}/`) || topic === errorsTopic(root)) return undefined
  if (hasWildcard(topic)) throw new TopicError(`topic "${topic}" contains an MQTT wildcard`)
  const rest = topic.slice(root.length + 1)
  const segments = rest.split('/')
  // A short id on the bare entity topic is a registration of the padded id: `te/packaging/belt001`
  // registers `packaging/belt001//` (reference §1.3).
  if (segments.length < ENTITY_ID_SEGMENTS)
    return { entity: normalizeEntityId(rest), channel: { kind: 'registration' } }
  const idSegments = segments.slice(0, ENTITY_ID_SEGMENTS)
  const tooLong = lengthError(idSegments)
  if (tooLong) throw new TopicError(tooLong)
  const entity = idSegments.join('/')
  if (idSegments.every((s) => s === '')) {
    throw new TopicError(`topic "${topic}" has an empty entity id`)
  }
  const channel = parseChannel(segments.slice(ENTITY_ID_SEGMENTS).join('/'))
  return { entity, channel }
}

function channelText(channel: Channel): string {
  switch (channel.kind) {
    case 'registration':
      return ''
    case 'twin':
      return `twin/${channel.key}`
    case 'config':
      return 'config'
    case 'measurement':
      return `m/${channel.type}`
    case 'measurement-meta':
      return `m/${channel.type}/meta`
    case 'event':
      return `e/${channel.type}`
    case 'event-meta':
      return `e/${channel.type}/meta`
    case 'alarm':
      return `a/${channel.type}`
    case 'alarm-meta':
      return `a/${channel.type}/meta`
    case 'capability':
      return `cmd/${channel.operation}`
    case 'command':
      return `cmd/${channel.operation}/${channel.cmdId}`
    case 'signal':
      return `signal/${channel.type}`
    case 'health':
      return 'status/health'
    case 'status':
      return `status/${channel.component}`
  }
}

/** Formats a topic; the entity id may be short and is padded. */
export function formatTopic(entity: string, channel: Channel, root = 'te'): string {
  const id = normalizeEntityId(entity)
  const text = channelText(channel)
  return text === '' ? `${root}/${id}` : `${root}/${id}/${text}`
}

export function errorsTopic(root = 'te'): string {
  return `${root}/errors`
}
