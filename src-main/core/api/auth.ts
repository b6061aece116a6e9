import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SessionStore } from '../auth/session-store'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (health, OpenAPI document, login). */
    public?: boolean
    /** thin-edge.io compatible: open to loopback clients, as connectors expect (DESIGN §3.2). */
    loopback?: boolean
  }
  interface FastifyRequest {
    /** Who made the request, for the audit trail: `api` (bearer token) or `ui` (session cookie). */
    actor?: string
  }
}

export const SESSION_COOKIE = 'edgetwin_session'

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/

export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Paths that carry data; everything else is the UI's static files and the login page. */
const PROTECTED = /^\/(api|te|tedge)\//

/**
 * `Authorization: Bearer <token>` or the UI's session cookie on every data route, except routes
 * marked public and thin-edge.io routes called from loopback.
 */
export function authenticate(token: string, sessions: SessionStore) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config
    if (config.public || !PROTECTED.test(request.url)) return
    if (config.loopback && LOOPBACK.test(request.socket.remoteAddress ?? '')) return
    const header = request.headers.authorization
    if (header?.startsWith('Bearer ')) {
      if (!sameToken(header.slice(7).trim(), token)) return reply.status(403).send({ error: 'invalid token' })
      request.actor = 'api'
      return
    }
    const session = request.cookies[SESSION_COOKIE]
    if (session && sessions.check(session)) {
      request.actor = 'ui'
      return
    }
    return reply
      .status(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: session ? 'session expired: log in again' : 'missing bearer token' })
  }
}
