import { isUtf8 } from 'node:buffer'

/**
 * The code points refused below, in a decoded string: U+0000, the control characters, U+FDD0–U+FDEF,
 * U+FFFE–U+FFFF and, as surrogate pairs, U+xxFFFE–U+xxFFFF of the supplementary planes.
 */
const REFUSED =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the control characters is what it is for.
  /[\u0000-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]|[\ud83f\ud87f\ud8bf\ud8ff\ud93f\ud97f\ud9bf\ud9ff\uda3f\uda7f\udabf\udaff\udb3f\udb7f\udbbf\udbff][\udffe\udfff]/
/** Strings longer than this are checked natively first; the byte loop below only names what is wrong. */
const FAST_PATH_BYTES = 64

const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`

/**
 * Why the UTF-8 encoded string `bytes[start, end)` of a packet is refused, or undefined (MQTT 3.1.1
 * §1.5.3). The parser in front of aedes decodes strings with replacement characters, so this reads
 * the bytes as they came.
 *
 * - Ill-formed UTF-8, which includes encoded UTF-16 surrogates, overlong forms and code points above
 *   U+10FFFF: the server MUST close the connection [MQTT-1.5.3-1].
 * - U+0000: the server MUST close the connection [MQTT-1.5.3-2].
 * - U+0001–U+001F, U+007F–U+009F and the non-characters (U+FDD0–U+FDEF and U+xxFFFE/U+xxFFFF): the
 *   data SHOULD NOT include them and a receiver MAY close the connection (the paragraph after
 *   [MQTT-1.5.3-2], without a number of its own). EdgeTwin does, as mosquitto (thin-edge.io's
 *   broker) does: no thin-edge.io client can depend on them, and in topics they become entity ids
 *   that cannot be shown or typed.
 */
export function utf8StringError(bytes: Buffer, start: number, end: number): string | undefined {
  if (end - start > FAST_PATH_BYTES) {
    const slice = bytes.subarray(start, end)
    if (isUtf8(slice) && !REFUSED.test(slice.toString('utf8'))) return undefined
  }
  let i = start
  while (i < end) {
    const first = bytes[i] as number
    let length: number
    let codePoint: number
    if (first < 0x80) {
      length = 1
      codePoint = first
    } else if (first >= 0xc2 && first <= 0xdf) {
      length = 2
      codePoint = first & 0x1f
    } else if (first >= 0xe0 && first <= 0xef) {
      length = 3
      codePoint = first & 0x0f
    } else if (first >= 0xf0 && first <= 0xf4) {
      length = 4
      codePoint = first & 0x07
    } else {
      return 'ill-formed UTF-8 [MQTT-1.5.3-1]'
    }
    if (i + length > end) return 'ill-formed UTF-8 [MQTT-1.5.3-1]'
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k] as number
      if ((next & 0xc0) !== 0x80) return 'ill-formed UTF-8 [MQTT-1.5.3-1]'
      codePoint = (codePoint << 6) | (next & 0x3f)
    }
    if (
      (length === 3 && codePoint < 0x800) ||
      (length === 4 && (codePoint < 0x10000 || codePoint > 0x10ffff))
    )
      return 'ill-formed UTF-8 (overlong or out of range) [MQTT-1.5.3-1]'
    if (codePoint >= 0xd800 && codePoint <= 0xdfff)
      return `UTF-16 surrogate ${hex(codePoint)} encoded in UTF-8 [MQTT-1.5.3-1]`
    if (codePoint === 0) return 'U+0000 in a string [MQTT-1.5.3-2]'
    if (codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f))
      return `control character ${hex(codePoint)} in a string (MQTT 3.1.1 §1.5.3)`
    if ((codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe)
      return `non-character ${hex(codePoint)} in a string (MQTT 3.1.1 §1.5.3)`
    i += length
  }
  return undefined
}
