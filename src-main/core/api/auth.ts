import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FailureLimiter } from '../auth/failure-limiter'
import type { SessionStore } from '../auth/session-store'
import { isLoopbackAddress } from '../exposure/addresses'
import type { HostPolicy } from './host-policy'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a credential (health, OpenAPI document, login, the UI's files). */
    public?: boolean
    /** thin-edge.io compatible: open to loopback clients, as connectors expect (DESIGN §3.2). */
    loopback?: boolean
    /** One of the UI's built files (cacheable, unlike API answers). */
    static?: boolean
  }
  interface FastifyRequest {
    /** Who made the request, for the audit trail: `api` (bearer token) or `ui` (session cookie). */
    actor?: string
  }
}

export const SESSION_COOKIE = 'edgetwin_session'

/** Methods that change nothing, so a cookie may carry them from a link (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export interface AccessDeps {
  token: string
  sessions: SessionStore
  hosts: HostPolicy
  failures: FailureLimiter
}

/**
 * The one access decision every request goes through, the WebSocket upgrade included, made on
 * what the router matched rather than on the URL's spelling (a percent-encoded or dot-segment
 * path reaches the same route and so the same decision):
 *
 * 1. the Host must be one of the core's names, and an Origin, when sent, the request's own;
 * 2. a route is open only if it is declared `public`, or `loopback` for a loopback client; an
 *    unmatched URL reaches the 404 answer, which holds nothing;
 * 3. everything else needs the bearer token or a live session cookie; a cookie is refused on a
 *    request another site started, and on a change (or a stream) unless the browser says the
 *    request comes from the core's own page;
 * 4. failed credential checks are limited per client address.
 */
export class AccessGuard {
  constructor(private readonly deps: AccessDeps) {}

  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    const { hosts } = this.deps
    const host = request.headers.host
    if (!hosts.allows(host, request.socket.localPort))
      return refuse(reply, 403, 'this core does not answer to that host name (see --allowed-hosts)')
    const origin = request.headers.origin
    if (origin !== undefined && !hosts.sameOrigin(origin, host))
      return refuse(reply, 403, 'cross-origin request refused')
    const config = request.routeOptions.config
    if (request.is404 || config.public) return
    if (config.loopback && isLoopbackAddress(request.socket.remoteAddress)) return

    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]
    if (bearer !== undefined) {
      if (!this.attempt(request, reply, sameToken(bearer.trim(), this.deps.token), 'bearer token')) return
      request.actor = 'api'
      return
    }
    const session = request.cookies[SESSION_COOKIE]
    if (session && this.deps.sessions.check(session)) {
      const refusal = crossSiteRefusal(request)
      if (refusal) return refuse(reply, 403, refusal)
      request.actor = 'ui'
      return
    }
    return reply
      .status(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: session ? 'session expired: log in again' : 'missing bearer token' })
  }

  /**
   * A credential check made by a route (the token typed at login, a login code), limited like the
   * bearer check: false once it has answered (429 while the client waits, or `failure`).
   */
  attempt(
    request: FastifyRequest,
    reply: FastifyReply,
    valid: boolean | (() => boolean),
    what: string,
    failure: () => unknown = () => refuse(reply, 403, `invalid ${what}`),
  ): boolean {
    const address = request.socket.remoteAddress ?? ''
    const wait = this.deps.failures.waitFor(address)
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000)
      reply
        .status(429)
        .header('retry-after', seconds)
        .send({ error: `too many failed attempts from this address: try again in ${seconds} s` })
      return false
    }
    if (typeof valid === 'function' ? valid() : valid) return true
    this.deps.failures.fail(address, what)
    failure()
    return false
  }
}

/**
 * Why a request carrying the session cookie is not the UI's own, or undefined. Browsers send the
 * cookie from any page of the same site, and a site is the host whatever the port, so another
 * local web app could otherwise act as the logged-in operator. Fetch metadata names the requesting
 * page's relation (`same-site`, `cross-site`); an Origin is sent with every change and stream, and
 * was checked to be this core's own.
 */
function crossSiteRefusal(request: FastifyRequest): string | undefined {
  const site = request.headers['sec-fetch-site']
  if (site === 'same-site' || site === 'cross-site')
    return 'the session cookie is only accepted from pages of this core'
  const changes = !SAFE_METHODS.has(request.method) || request.headers.upgrade !== undefined
  if (changes && request.headers.origin === undefined && site !== 'same-origin')
    return 'a change with the session cookie needs an Origin or Sec-Fetch-Site header from this core'
  return undefined
}

function refuse(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.status(status).send({ error })
}
