// The few ASN.1 DER encodings (ITU-T X.690) an X.509 v3 certificate needs.

/** A tag, its definite length (short form below 128, long form above) and the content. */
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), content])
  const length: number[] = []
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256)
  return Buffer.concat([Buffer.from([tag, 0x80 | length.length, ...length]), content])
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items))
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items))
export const octetString = (bytes: Buffer) => tlv(0x04, bytes)
/** A BIT STRING of whole bytes (no unused bits). */
export const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]))
export const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]))
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'))
/** [n] EXPLICIT: a constructed context-specific tag around a whole encoding. */
export const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner)
/** [n] IMPLICIT of a primitive type: the content under a context-specific tag. */
export const implicit = (n: number, content: Buffer) => tlv(0x80 | n, content)

/** A non-negative INTEGER from its big-endian bytes: minimal, with a 0 byte where the top bit is set. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  const trimmed = bytes.subarray(start)
  return tlv(0x02, (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

export const smallInteger = (value: number) => unsignedInteger(Buffer.from([value]))

export function objectIdentifier(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]]
  const bytes = [first * 40 + second]
  for (const arc of rest) {
    const base128 = [arc & 0x7f]
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      base128.unshift(0x80 | (value & 0x7f))
    bytes.push(...base128)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/**
 * RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) for years 1950–2049, GeneralizedTime (YYYYMMDDHHMMSSZ)
 * from 2050, both in UTC to the second.
 */
export function time(date: Date): Buffer {
  const text = date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '')
  const year = date.getUTCFullYear()
  return year < 2050 ? tlv(0x17, Buffer.from(text.slice(2), 'ascii')) : tlv(0x18, Buffer.from(text, 'ascii'))
}
