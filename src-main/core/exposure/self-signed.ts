import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import net from 'node:net'
import {
  bitString,
  boolean,
  explicit,
  implicit,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from './der'

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const COMMON_NAME = '2.5.4.3'
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14'
const KEY_USAGE = '2.5.29.15'
const SUBJECT_ALT_NAME = '2.5.29.17'
const BASIC_CONSTRAINTS = '2.5.29.19'
const EXTENDED_KEY_USAGE = '2.5.29.37'
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'

export interface SelfSignedOptions {
  commonName: string
  /** subjectAltName dNSName entries. */
  dns: string[]
  /** subjectAltName iPAddress entries, IPv4 or IPv6. */
  ips: string[]
  notBefore: Date
  notAfter: Date
}

/** The 4 or 16 bytes of an IP address, as an iPAddress GeneralName holds them (RFC 5280 §4.2.1.6). */
export function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number))
  if (!net.isIPv6(ip)) throw new Error(`not an IP address: ${ip}`)
  let text = ip.replace(/%.*$/, '')
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, -(v4[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const all =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const bytes = Buffer.alloc(16)
  for (const [i, group] of all.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2)
  return bytes
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value))
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/**
 * A self-signed X.509 v3 server certificate (no CA) on a new ECDSA P-256 key, built here with
 * node:crypto and a minimal DER encoder, so generating one needs no `openssl` program (Windows has
 * none). Clients trust it by its fingerprint or as its own CA.
 */
export function selfSignedCertificate(options: SelfSignedOptions): { cert: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  // RFC 5280 §4.2.1.2 (1): the SHA-1 of the subjectPublicKey bits, here the 65-byte uncompressed point.
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest()
  const algorithm = sequence(objectIdentifier(ECDSA_WITH_SHA256))
  const name = sequence(set(sequence(objectIdentifier(COMMON_NAME), utf8String(options.commonName))))
  const serial = randomBytes(16)
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 bytes.
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01
  const altNames = sequence(
    ...options.dns.map((dns) => implicit(2, Buffer.from(dns, 'ascii'))),
    ...options.ips.map((ip) => implicit(7, ipBytes(ip))),
  )
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(options.notBefore), time(options.notAfter)),
    // Self-signed: the subject is the issuer.
    name,
    spki,
    explicit(
      3,
      sequence(
        extension(BASIC_CONSTRAINTS, true, sequence()),
        // digitalSignature only: bit 0, so one byte with 7 unused bits.
        extension(KEY_USAGE, true, tlv(0x03, Buffer.from([7, 0x80]))),
        extension(EXTENDED_KEY_USAGE, false, sequence(objectIdentifier(SERVER_AUTH))),
        extension(SUBJECT_KEY_IDENTIFIER, false, octetString(keyId)),
        extension(SUBJECT_ALT_NAME, false, altNames),
      ),
    ),
  )
  const signature = sign('sha256', tbs, privateKey)
  const certificate = sequence(tbs, algorithm, bitString(signature))
  return {
    cert: pem('CERTIFICATE', certificate),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  }
}
