import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { SecretView, SyncConfigInput, SyncConfigView } from '../api/types'
import { siteIdError } from './protocol'

/** The stored configuration, secrets included: lives in `<data-dir>/sync.json`, mode 0600. */
export interface SyncConfig {
  enabled: boolean
  url: string
  siteId: string
  username: string
  password: string | null
  clientCert: string | null
  clientKey: string | null
  ca: string | null
  batchBytes: number
  batchMs: number
  maxBacklogBytes: number
}

export const DEFAULT_SYNC_CONFIG: SyncConfig = {
  enabled: false,
  url: '',
  siteId: '',
  username: '',
  password: null,
  clientCert: null,
  clientKey: null,
  ca: null,
  // 128 KiB: under AWS IoT Core's message limit even if a batch would not compress.
  batchBytes: 128 * 1024,
  batchMs: 1000,
  maxBacklogBytes: 512 * 1024 * 1024,
}

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:'])
const SECRETS = ['password', 'clientCert', 'clientKey', 'ca'] as const

export class SyncConfigError extends Error {
  readonly statusCode = 400
}

function fail(message: string): never {
  throw new SyncConfigError(message)
}

function intIn(value: unknown, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    fail(`${name} must be an integer from ${min} to ${max}`)
  return value as number
}

function certificate(pem: string, name: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  if (!blocks) fail(`${name} is not a PEM certificate`)
  try {
    return blocks.map((block) => new X509Certificate(block))
  } catch (error) {
    fail(`${name} is not a valid certificate: ${(error as Error).message}`)
  }
}

/** Checks a complete configuration; returns it unchanged or throws a SyncConfigError. */
export function validateSyncConfig(config: SyncConfig): SyncConfig {
  if (config.url !== '') {
    let url: URL
    try {
      url = new URL(config.url)
    } catch {
      fail(`sync URL "${config.url}" is not a URL`)
    }
    if (!PROTOCOLS.has(url.protocol)) fail(`sync URL must start with mqtt://, mqtts://, ws:// or wss://`)
    if (url.username || url.password)
      fail('put the user name and password in their own fields, not in the URL')
  }
  if (config.siteId !== '') {
    const error = siteIdError(config.siteId)
    if (error) fail(error)
  }
  if (config.enabled && (config.url === '' || config.siteId === ''))
    fail('sync needs a URL and a site id before it can be turned on')
  intIn(config.batchBytes, 'batchBytes', 1024, 1024 * 1024)
  intIn(config.batchMs, 'batchMs', 0, 60_000)
  intIn(config.maxBacklogBytes, 'maxBacklogBytes', 1024 * 1024, 64 * 1024 * 1024 * 1024)
  const [cert] = config.clientCert ? certificate(config.clientCert, 'client certificate') : []
  if (config.ca) certificate(config.ca, 'CA')
  if (config.clientKey) {
    let key: ReturnType<typeof createPrivateKey>
    try {
      key = createPrivateKey(config.clientKey)
    } catch (error) {
      fail(`client key is not a PEM private key: ${(error as Error).message}`)
    }
    if (cert && !cert.checkPrivateKey(key)) fail('client key does not belong to the client certificate')
  }
  // MQTT 3.1.1 §3.1.2.9: no password without a user name (mqtt.js would fail without saying why).
  if (config.password && !config.username) fail('a password needs a user name')
  if (Boolean(config.clientCert) !== Boolean(config.clientKey))
    fail('a client certificate needs its key, and a key its certificate')
  return config
}

/** Applies a change to a configuration (fields left out stay; null removes a secret). */
export function mergeSyncConfig(current: SyncConfig, input: SyncConfigInput): SyncConfig {
  if (typeof input !== 'object' || input === null) fail('the sync configuration must be a JSON object')
  const next: SyncConfig = { ...current }
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    switch (key) {
      case 'enabled':
        if (typeof value !== 'boolean') fail('enabled must be true or false')
        next.enabled = value
        break
      case 'url':
      case 'siteId':
      case 'username':
        if (typeof value !== 'string') fail(`${key} must be a string`)
        next[key] = value.trim()
        break
      case 'password':
      case 'clientCert':
      case 'clientKey':
      case 'ca':
        if (value !== null && typeof value !== 'string') fail(`${key} must be a string or null`)
        next[key] = value === '' ? null : (value as string | null)
        break
      case 'batchBytes':
      case 'batchMs':
      case 'maxBacklogBytes':
        next[key] = value as number
        break
      default:
        fail(`unknown sync setting "${key}"`)
    }
  }
  return validateSyncConfig(next)
}

function secretView(name: (typeof SECRETS)[number], value: string | null): SecretView {
  if (!value) return { set: false, hint: null }
  if (name === 'password') return { set: true, hint: `${value.length} characters` }
  if (name === 'clientKey') {
    try {
      return { set: true, hint: `${createPrivateKey(value).asymmetricKeyType ?? 'private'} key` }
    } catch {
      return { set: true, hint: null }
    }
  }
  try {
    const [cert] = certificate(value, name)
    const fingerprint = createHash('sha256')
      .update(cert?.raw ?? '')
      .digest('hex')
      .slice(0, 12)
    return { set: true, hint: `${cert?.subject.replaceAll('\n', ', ')} (SHA-256 ${fingerprint}…)` }
  } catch {
    return { set: true, hint: null }
  }
}

/** What the API answers: everything but the secrets, which are only described. */
export function syncConfigView(config: SyncConfig): SyncConfigView {
  return {
    enabled: config.enabled,
    url: config.url,
    siteId: config.siteId,
    username: config.username,
    password: secretView('password', config.password),
    clientCert: secretView('clientCert', config.clientCert),
    clientKey: secretView('clientKey', config.clientKey),
    ca: secretView('ca', config.ca),
    batchBytes: config.batchBytes,
    batchMs: config.batchMs,
    maxBacklogBytes: config.maxBacklogBytes,
  }
}

/** The configuration file in the data dir: written atomically, readable by its owner only. */
export class SyncConfigStore {
  private readonly file: string

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'sync.json')
  }

  load(): SyncConfig {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_SYNC_CONFIG }
      throw error
    }
    try {
      return validateSyncConfig({ ...DEFAULT_SYNC_CONFIG, ...JSON.parse(text) })
    } catch (error) {
      throw new Error(`${this.file}: ${(error as Error).message}`)
    }
  }

  save(config: SyncConfig): void {
    const temp = `${this.file}.tmp`
    // A leftover temp file keeps its mode; start from none so the secret file is created 0600.
    rmSync(temp, { force: true })
    writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
    renameSync(temp, this.file)
  }
}
