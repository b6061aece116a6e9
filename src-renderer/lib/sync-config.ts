// The sync configuration form: what it holds, the checks the core makes (so the operator sees the
// reason at once), and the change to send, which names only the fields the operator changed.
import type { SyncConfigInput, SyncConfigView } from './api'
import type { Errors } from './form'

export const SECRETS = ['password', 'clientCert', 'clientKey', 'ca'] as const
export type Secret = (typeof SECRETS)[number]

/** A secret's edit: undefined leaves it as it is, a string replaces it, null removes it. */
export type SecretChange = string | null | undefined

export interface SyncConfigFields {
  url: string
  siteId: string
  username: string
  password: SecretChange
  clientCert: SecretChange
  clientKey: SecretChange
  ca: SecretChange
  /** Number inputs: null while empty. */
  batchBytes: number | null
  batchMs: number | null
  /** The backlog bound in MB (2²⁰ bytes, as formatBytes counts) in the form, bytes in the API. */
  maxBacklogMb: number | null
}

export type SyncConfigField = keyof SyncConfigFields

const MB = 1024 * 1024
/** The core's bounds (validateSyncConfig in src-main/core/sync/config-store.ts). */
const BATCH_BYTES = { least: 1024, most: 1024 * 1024 }
const BATCH_MS = { least: 0, most: 60_000 }
const BACKLOG_MB = { least: 1, most: 64 * 1024 }

export function fieldsOf(config: SyncConfigView): SyncConfigFields {
  return {
    url: config.url,
    siteId: config.siteId,
    username: config.username,
    password: undefined,
    clientCert: undefined,
    clientKey: undefined,
    ca: undefined,
    batchBytes: config.batchBytes,
    batchMs: config.batchMs,
    maxBacklogMb: config.maxBacklogBytes / MB,
  }
}

const SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:']
/** The core's rule (siteIdError in src-main/core/sync/protocol.ts, which a page cannot import). */
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const PEM: Record<Exclude<Secret, 'password'>, { pattern: RegExp; what: string }> = {
  clientCert: { pattern: /-----BEGIN CERTIFICATE-----/, what: 'a certificate (-----BEGIN CERTIFICATE-----)' },
  clientKey: {
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    what: 'a private key (-----BEGIN … PRIVATE KEY-----)',
  },
  ca: { pattern: /-----BEGIN CERTIFICATE-----/, what: 'a certificate (-----BEGIN CERTIFICATE-----)' },
}

function urlError(url: string): string | undefined {
  if (url === '') return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'Not a URL: enter one like mqtts://broker.example.com:8883.'
  }
  if (!SCHEMES.includes(parsed.protocol)) return 'Use an mqtt://, mqtts://, ws:// or wss:// URL.'
  if (parsed.username || parsed.password) return 'Put the username and password in their own fields.'
  return undefined
}

function secretError(secret: Secret, change: SecretChange): string | undefined {
  if (typeof change !== 'string') return undefined
  if (secret === 'password') return change === '' ? 'Enter the new password, or cancel.' : undefined
  if (change.trim() === '') return 'Paste the PEM text or choose a file, or cancel.'
  const { pattern, what } = PEM[secret]
  return pattern.test(change) ? undefined : `This is not ${what} in PEM format.`
}

const within = (
  value: number | null,
  { least, most }: { least: number; most: number },
  what: string,
  whole = true,
) =>
  value === null || (whole && !Number.isInteger(value)) || value < least || value > most
    ? `Enter ${whole ? 'a whole number of ' : ''}${what} from ${least.toLocaleString()} to ${most.toLocaleString()}.`
    : undefined

export function fieldErrors(fields: SyncConfigFields): Errors<SyncConfigField> {
  const url = fields.url.trim()
  const siteId = fields.siteId.trim()
  const errors: Errors<SyncConfigField> = {
    url: urlError(url),
    siteId:
      siteId === ''
        ? url
          ? 'Enter the site id: the cloud files this site’s data under it.'
          : undefined
        : SITE_ID.test(siteId)
          ? undefined
          : 'Use 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit.',
    batchBytes: within(fields.batchBytes, BATCH_BYTES, 'bytes'),
    batchMs: within(fields.batchMs, BATCH_MS, 'milliseconds'),
    maxBacklogMb: within(fields.maxBacklogMb, BACKLOG_MB, 'MB', false),
  }
  for (const secret of SECRETS) errors[secret] = secretError(secret, fields[secret])
  return errors
}

/** What to send: only what differs from `config`, trimmed; secrets only when replaced or removed. */
export function changesOf(config: SyncConfigView, fields: SyncConfigFields): SyncConfigInput {
  const change: SyncConfigInput = {}
  for (const key of ['url', 'siteId', 'username'] as const) {
    const value = fields[key].trim()
    if (value !== config[key]) change[key] = value
  }
  for (const secret of SECRETS) if (fields[secret] !== undefined) change[secret] = fields[secret]
  if (fields.batchBytes !== null && fields.batchBytes !== config.batchBytes)
    change.batchBytes = fields.batchBytes
  if (fields.batchMs !== null && fields.batchMs !== config.batchMs) change.batchMs = fields.batchMs
  if (fields.maxBacklogMb !== null) {
    const bytes = Math.round(fields.maxBacklogMb * MB)
    if (bytes !== config.maxBacklogBytes) change.maxBacklogBytes = bytes
  }
  return change
}

/** A file picked for a PEM field, as text (FileReader: Blob.text() is missing in some engines). */
export function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'))
    reader.readAsText(file)
  })
}
