import type { PersistencePacket } from 'aedes-persistence/asyncPersistence.js'

// Stored packet: `packet` is JSON of every field but the payload; `payload` is the payload itself, so
// better-sqlite3 stores a Buffer as a BLOB and a string as TEXT and gives back the same type.
export interface PacketRow {
  packet: string
  payload: Buffer | string | null
}

// Tags for the JSON values that JSON cannot carry. U+0000 is forbidden in MQTT strings [MQTT-1.5.3-2], so no
// topic, user property or other field from the wire can produce these keys.
const BUFFER_TAG = '\u0000buffer'
const UNDEFINED_TAG = '\u0000undefined'

export function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]
  // A field present but undefined (aedes-packet sets `messageId: undefined`) must come back present.
  if (raw === undefined) return { [UNDEFINED_TAG]: true }
  if (raw instanceof Uint8Array) {
    return { [BUFFER_TAG]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') }
  }
  // Functions (a QoSPacket's writeCallback) are runtime state, not part of the packet.
  return typeof value === 'function' ? undefined : value
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i])
    return value
  }
  const record = value as Record<string, unknown>
  const base64 = record[BUFFER_TAG]
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64')
  if (UNDEFINED_TAG in record) return undefined
  for (const key of Object.keys(record)) record[key] = revive(record[key])
  return record
}

export function encodePacket(packet: PersistencePacket): PacketRow {
  const { payload, ...fields } = packet
  if (typeof payload === 'string') return { packet: JSON.stringify(fields, replacer), payload }
  if (payload instanceof Uint8Array) {
    return {
      packet: JSON.stringify(fields, replacer),
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    }
  }
  // No payload (a PUBREL), or an odd one: it stays in the JSON, absent or tagged as it was.
  return { packet: JSON.stringify(packet, replacer), payload: null }
}

export function decodePacket(row: PacketRow): PersistencePacket {
  const packet = revive(JSON.parse(row.packet)) as PersistencePacket
  if (row.payload !== null) packet.payload = row.payload
  return packet
}
