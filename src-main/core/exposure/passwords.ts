import { createHash, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem?: number },
) => Promise<Buffer>
const pbkdf2Async = promisify(pbkdf2)

/**
 * scrypt with N = 2^14, r = 8, p = 1: RFC 7914's interactive-login parameters, 16 MiB and tens of
 * milliseconds per check.
 */
const SCRYPT = { ln: 14, r: 8, p: 1 }
/** Checks that may run at once: each takes 16 MiB, and a flood of wrong passwords must not take more. */
const CONCURRENT_CHECKS = 2

type Hash =
  | { kind: 'scrypt'; n: number; r: number; p: number; salt: Buffer; hash: Buffer }
  | { kind: 'pbkdf2'; iterations: number; salt: Buffer; hash: Buffer }
  | { kind: 'sha512'; salt: Buffer; hash: Buffer }

/** Thrown when a check cannot run now (too many at once): the client may try again later. */
export class Busy extends Error {}

/** One line of a password file: `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` (base64), EdgeTwin's own. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(password, salt, 32, { N: 2 ** SCRYPT.ln, r: SCRYPT.r, p: SCRYPT.p })
  return `$scrypt$ln=${SCRYPT.ln},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/**
 * Reads a hash: EdgeTwin's scrypt, or mosquitto_passwd's `$7$` (PBKDF2-SHA512, mosquitto 2) and
 * `$6$` (salted SHA-512, mosquitto 1.x), so a thin-edge.io device's mosquitto password file works.
 */
function parseHash(text: string): Hash | undefined {
  const scryptMatch = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text)
  if (scryptMatch) {
    const [, ln, r, p, salt, hash] = scryptMatch as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ]
    if (Number(ln) > 20 || Number(r) > 32 || Number(p) > 16) return undefined
    return {
      kind: 'scrypt',
      n: 2 ** Number(ln),
      r: Number(r),
      p: Number(p),
      salt: Buffer.from(salt, 'base64'),
      hash: Buffer.from(hash, 'base64'),
    }
  }
  const pbkdf2Match = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text)
  if (pbkdf2Match) {
    const [, iterations, salt, hash] = pbkdf2Match as unknown as [string, string, string, string]
    if (Number(iterations) < 1 || Number(iterations) > 10_000_000) return undefined
    return {
      kind: 'pbkdf2',
      iterations: Number(iterations),
      salt: Buffer.from(salt, 'base64'),
      hash: Buffer.from(hash, 'base64'),
    }
  }
  const sha512Match = /^\$6\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text)
  if (sha512Match) {
    const [, salt, hash] = sha512Match as unknown as [string, string, string]
    return { kind: 'sha512', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }
  }
  return undefined
}

async function derive(hash: Hash, password: string): Promise<Buffer> {
  switch (hash.kind) {
    case 'scrypt':
      return scryptAsync(password, hash.salt, hash.hash.length, {
        N: hash.n,
        r: hash.r,
        p: hash.p,
        // scrypt needs 128 · N · r bytes; Node's default cap (32 MiB) would refuse larger parameters.
        maxmem: 256 * hash.n * hash.r,
      })
    case 'pbkdf2':
      return pbkdf2Async(password, hash.salt, hash.iterations, hash.hash.length, 'sha512')
    case 'sha512':
      return createHash('sha512').update(password).update(hash.salt).digest()
  }
}

/**
 * A passwd-like file of MQTT users, `USER:HASH` per line (`#` comments and blank lines ignored),
 * read once. Checks run off the main thread (libuv's pool), at most two at once; a password that
 * passed is remembered (as its SHA-256) so a reconnecting client costs no second check.
 */
export class PasswordFile {
  private readonly passed = new Map<string, Buffer>()
  private running = 0

  private constructor(
    readonly file: string,
    private readonly users: Map<string, Hash>,
  ) {}

  static read(file: string): PasswordFile {
    const users = new Map<string, Hash>()
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .forEach((line, index) => {
        if (line.trim() === '' || line.startsWith('#')) return
        const colon = line.indexOf(':')
        const hash = colon > 0 ? parseHash(line.slice(colon + 1).trim()) : undefined
        if (!hash)
          throw new Error(`${file} line ${index + 1}: expected USER:HASH (scrypt, or mosquitto_passwd's)`)
        users.set(line.slice(0, colon), hash)
      })
    return new PasswordFile(file, users)
  }

  get size(): number {
    return this.users.size
  }

  /** Whether `password` is `user`'s; throws Busy when too many checks run. */
  async check(user: string, password: Buffer): Promise<boolean> {
    const hash = this.users.get(user)
    if (!hash) return false
    const text = password.toString('utf8')
    const digest = createHash('sha256').update(password).digest()
    const known = this.passed.get(user)
    if (known && timingSafeEqual(known, digest)) return true
    if (this.running >= CONCURRENT_CHECKS) throw new Busy('too many password checks at once')
    this.running++
    try {
      const derived = await derive(hash, text)
      const ok = derived.length === hash.hash.length && timingSafeEqual(derived, hash.hash)
      if (ok) this.passed.set(user, digest)
      return ok
    } finally {
      this.running--
    }
  }
}
