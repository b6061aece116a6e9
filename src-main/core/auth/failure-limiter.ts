import type { Logger } from 'pino'

/** Failed attempts a client address may make in a burst (a mistyped token, an old login link). */
export const FAILURE_BURST = 10
/**
 * One more attempt is allowed this often once the burst is used: at most ten guesses a minute, and
 * a client that stops failing (the operator at the loopback address) waits six seconds at most.
 */
export const FAILURE_REFILL_MS = 6_000
/** Addresses remembered at once; those that have earned their whole burst back are forgotten first. */
const MAX_ADDRESSES = 4096
/** At most one log line per address this often, with the failures counted since the previous one. */
const LOG_INTERVAL_MS = 60_000

interface Bucket {
  /** Attempts left, refilled over time up to FAILURE_BURST. */
  tokens: number
  updatedAt: number
  /** Failures not logged yet, and when this address was last logged. */
  unlogged: number
  loggedAt: number
}

/**
 * Anti-automation for credential checks (a bearer token, the token typed at login, a login code):
 * a token bucket of failed attempts per client address. While an address has none left, its
 * credential checks are refused with a wait instead of being made, so a guess tells nothing, and
 * every attempt it makes later gets its answer again — nobody is locked out for longer than the
 * refill. A session cookie is not a guess and is never limited, so the UI keeps working meanwhile.
 */
export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try again; 0 when it may now. */
  waitFor(address: string): number {
    const bucket = this.refilled(clientKey(address))
    if (!bucket || bucket.tokens >= 1) return 0
    return Math.ceil((1 - bucket.tokens) * FAILURE_REFILL_MS)
  }

  /** Counts a failed attempt of `address` (`what` names the credential for the log). */
  fail(address: string, what: string): void {
    const key = clientKey(address)
    const time = this.now()
    let bucket = this.refilled(key)
    if (!bucket) {
      this.makeRoom()
      bucket = { tokens: FAILURE_BURST, updatedAt: time, unlogged: 0, loggedAt: 0 }
      this.buckets.set(key, bucket)
    }
    bucket.tokens = Math.max(0, bucket.tokens - 1)
    bucket.unlogged++
    if (time - bucket.loggedAt >= LOG_INTERVAL_MS) {
      this.logger.warn(
        { client: key, failures: bucket.unlogged, credential: what },
        'failed authentication: refused, and limited once repeated',
      )
      bucket.unlogged = 0
      bucket.loggedAt = time
    }
  }

  private refilled(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key)
    if (!bucket) return undefined
    const time = this.now()
    bucket.tokens = Math.min(FAILURE_BURST, bucket.tokens + (time - bucket.updatedAt) / FAILURE_REFILL_MS)
    bucket.updatedAt = time
    return bucket
  }

  private makeRoom(): void {
    if (this.buckets.size < MAX_ADDRESSES) return
    const full = this.now() - FAILURE_BURST * FAILURE_REFILL_MS
    // A bucket untouched for a whole refill is full again: forgetting it changes nothing.
    for (const [key, bucket] of this.buckets) if (bucket.updatedAt <= full) this.buckets.delete(key)
    // Still full (many addresses failing at once): forget the oldest; memory stays bounded.
    while (this.buckets.size >= MAX_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value as string)
  }
}

/**
 * The client an address stands for: an IPv4 address, or an IPv6 /64 (one host usually owns a whole
 * /64, so counting single IPv6 addresses would give it millions of buckets).
 */
export function clientKey(address: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (v4) return v4[1] as string
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
