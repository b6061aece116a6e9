import { randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { hostKind, lanNames, urlHost } from './addresses'
import { hashPassword, PasswordFile } from './passwords'
import { selfSignedCertificate } from './self-signed'

export { hostKind, isLoopbackAddress, loopbackFor, urlHost } from './addresses'
export { FrontDoor } from './front-door'

export interface ExposureOptions {
  dataDir: string
  host: string
  /** PEM files of the server certificate (and chain) and its key; generated when absent. */
  tlsCertFile?: string
  tlsKeyFile?: string
  /** PEM file of CA certificates: MQTT clients with a certificate they signed need no password. */
  tlsCaFile?: string
  /** A passwd-like file of MQTT users; generated (one user) when absent and no CA is given. */
  mqttPasswordFile?: string
  /** Whether this core embeds the broker, so MQTT clients need credentials. */
  embeddedBroker: boolean
  now: () => number
}

/** What a core listening beyond loopback needs: TLS for everyone, MQTT credentials. */
export interface Exposure {
  tls: { cert: string; key: string; ca?: string }
  /** SHA-256 fingerprint of the server certificate, as clients can pin it. */
  fingerprint: string
  /** The MQTT users (undefined with client certificates only, or without an embedded broker). */
  passwords?: PasswordFile
  /** Whether MQTT clients may authenticate with a certificate signed by the given CA. */
  clientCertificates: boolean
  /** On the start that generated them: the MQTT user and password, to be shown once. */
  generatedUser?: { username: string; password: string; file: string }
  /** Set when the certificate was generated on this start. */
  generatedCertificate?: string
}

export const GENERATED_USER = 'edgetwin'
/** A generated certificate is valid this long: clients pin it, and a renewal would break the pin. */
const CERTIFICATE_DAYS = 10 * 365

function readOption(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new Error(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

/** Writes a file atomically with a mode (a secret: owner-only). */
function writeAtomically(file: string, content: string, mode: number): void {
  writeFileSync(`${file}.tmp`, content, { mode })
  renameSync(`${file}.tmp`, file)
}

/**
 * What `--host` needs beyond loopback, read from the given files or from the data dir, generated on
 * the first start: a self-signed certificate (`tls/server.crt`, `tls/server.key`) and one MQTT user
 * with a random password stored hashed (`mqtt-passwd`). Undefined for a loopback host. Throws with
 * one line to show when the material cannot be had.
 */
export async function prepareExposure(options: ExposureOptions): Promise<Exposure | undefined> {
  if (hostKind(options.host) === 'loopback') return undefined
  const { dataDir } = options
  if ((options.tlsCertFile === undefined) !== (options.tlsKeyFile === undefined))
    throw new Error('--tls-cert and --tls-key go together')
  let cert: string
  let key: string
  let generatedCertificate: string | undefined
  if (options.tlsCertFile && options.tlsKeyFile) {
    cert = readOption(options.tlsCertFile, '--tls-cert')
    key = readOption(options.tlsKeyFile, '--tls-key')
  } else {
    const certFile = path.join(dataDir, 'tls', 'server.crt')
    const keyFile = path.join(dataDir, 'tls', 'server.key')
    if (existsSync(certFile) !== existsSync(keyFile))
      throw new Error(
        `${path.dirname(certFile)} holds only one of server.crt and server.key: remove it for a new pair`,
      )
    if (!existsSync(certFile)) {
      const names = lanNames(options.host)
      const now = options.now()
      const pair = selfSignedCertificate({
        commonName: `EdgeTwin ${os.hostname()}`.slice(0, 64),
        dns: [...names.dns, 'localhost'],
        ips: [...names.ips, '127.0.0.1', '::1'],
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + CERTIFICATE_DAYS * 86400_000),
      })
      mkdirSync(path.dirname(certFile), { recursive: true, mode: 0o700 })
      writeAtomically(keyFile, pair.key, 0o600)
      writeAtomically(certFile, pair.cert, 0o644)
      generatedCertificate = certFile
    }
    cert = readOption(certFile, 'TLS certificate')
    key = readOption(keyFile, 'TLS key')
  }
  const ca = options.tlsCaFile === undefined ? undefined : readOption(options.tlsCaFile, '--tls-ca')
  let fingerprint: string
  try {
    fingerprint = new X509Certificate(cert).fingerprint256
    tls.createSecureContext({ cert, key, ca })
  } catch (error) {
    throw new Error(`the TLS certificate, key or CA cannot be used: ${(error as Error).message}`)
  }
  const exposure: Exposure = { tls: { cert, key, ca }, fingerprint, clientCertificates: ca !== undefined }
  if (generatedCertificate) exposure.generatedCertificate = generatedCertificate
  if (!options.embeddedBroker) return exposure

  let passwordFile = options.mqttPasswordFile
  if (passwordFile === undefined && ca === undefined) {
    passwordFile = path.join(dataDir, 'mqtt-passwd')
    if (!existsSync(passwordFile)) {
      const password = randomBytes(18).toString('base64url')
      writeAtomically(passwordFile, `${GENERATED_USER}:${await hashPassword(password)}\n`, 0o600)
      exposure.generatedUser = { username: GENERATED_USER, password, file: passwordFile }
    }
  }
  if (passwordFile !== undefined) {
    try {
      exposure.passwords = PasswordFile.read(passwordFile)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      const what = options.mqttPasswordFile === undefined ? 'MQTT password file' : '--mqtt-password-file'
      throw new Error(`${what}: cannot use ${passwordFile}: ${reason}`)
    }
    if (exposure.passwords.size === 0 && ca === undefined)
      throw new Error(`${passwordFile} has no MQTT user: clients on the network could not connect`)
  }
  return exposure
}

/** What clients on other machines need, TLS only (the ready file's `lan`; its `http` and `mqtt` stay loopback URLs). */
export interface LanReady {
  https: string[]
  /** Empty with an external broker. */
  mqtts: string[]
  /** SHA-256 fingerprint of the server certificate, for clients to pin. */
  fingerprint: string
  /** The certificate's file, on the start that generated it. */
  generatedCertificate?: string
  /** The MQTT user generated on this start: its password is shown once and never written to a file. */
  generatedUser?: { username: string; password: string; file: string }
}

/** The URLs other machines use to reach the listeners on `host`, and the certificate they trust. */
export function lanReady(
  exposure: Exposure,
  host: string,
  httpPort: number,
  mqttPort: number | undefined,
): LanReady {
  const hosts = hostKind(host) === 'lan' ? [host] : lanNames(host).ips
  const lan: LanReady = {
    https: hosts.map((name) => `https://${urlHost(name, httpPort)}`),
    mqtts: mqttPort === undefined ? [] : hosts.map((name) => `mqtts://${urlHost(name, mqttPort)}`),
    fingerprint: exposure.fingerprint,
  }
  if (exposure.generatedCertificate) lan.generatedCertificate = exposure.generatedCertificate
  if (exposure.generatedUser) lan.generatedUser = exposure.generatedUser
  return lan
}

/** What someone setting up clients on other machines needs: `serve` prints it at every start. */
export function lanSummary(lan: LanReady): string {
  const lines = [
    `On other machines (TLS only): ${[...lan.https, ...lan.mqtts].join(' ') || 'no non-loopback address found'}`,
    `TLS certificate SHA-256 fingerprint: ${lan.fingerprint}` +
      (lan.generatedCertificate ? ` (self-signed, generated into ${lan.generatedCertificate})` : ''),
  ]
  const user = lan.generatedUser
  if (user)
    lines.push(
      `MQTT user "${user.username}", password "${user.password}": shown this once, stored hashed in ${user.file}`,
    )
  return `${lines.join('\n')}\n`
}
