import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (health, OpenAPI document). */
    public?: boolean
    /** thin-edge.io compatible: open to loopback clients, as connectors expect (DESIGN §3.2). */
    loopback?: boolean
  }
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/

function sameToken(given: string, expected: Buffer): boolean {
  const buffer = Buffer.from(given)
  return buffer.length === expected.length && timingSafeEqual(buffer, expected)
}

/** Bearer token on every route except those marked public or loopback-open. */
export function authenticate(token: string) {
  const expected = Buffer.from(token)
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config
    if (config.public) return
    if (config.loopback && LOOPBACK.test(request.socket.remoteAddress ?? '')) return
    const header = request.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined
    if (given === undefined) {
      return reply.status(401).header('www-authenticate', 'Bearer').send({ error: 'missing bearer token' })
    }
    if (!sameToken(given, expected)) return reply.status(403).send({ error: 'invalid token' })
  }
}
