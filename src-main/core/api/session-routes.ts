import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { CoreParts } from '../app'
import { SESSION_MAX_MS } from '../auth/session-store'
import { type AccessGuard, SESSION_COOKIE, sameToken } from './auth'

/**
 * Login for the UI: a one-time login URL (printed by `edgetwin serve`, or minted for the desktop
 * window) or the API token typed in once, both ending in an HttpOnly, SameSite=Strict session cookie,
 * so no token sits in local storage or in later URLs.
 */
export function sessionRoutes(parts: CoreParts, guard: AccessGuard): FastifyPluginAsync {
  const { sessions } = parts
  const setCookie = (reply: FastifyReply, id: string) =>
    reply.setCookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      // The browser forgets it when the session's lifetime is over at the latest.
      maxAge: SESSION_MAX_MS / 1000,
    })

  return async (app) => {
    app.get<{ Querystring: { code?: string } }>(
      '/login',
      {
        config: { public: true },
        schema: {
          hide: true,
          querystring: { type: 'object', properties: { code: { type: 'string', maxLength: 200 } } },
        },
      },
      async (request, reply) => {
        const code = request.query.code
        // Redirect either way, so the code does not stay in the address bar or the history.
        const expired = () => reply.redirect('/#/login/expired', 303)
        if (!code) return expired()
        if (!guard.attempt(request, reply, () => sessions.redeemCode(code), 'login code', expired))
          return reply
        setCookie(reply, sessions.open(request.headers['user-agent']))
        return reply.redirect('/', 303)
      },
    )

    app.post<{ Body: { token: string } }>(
      '/api/v1/session',
      {
        config: {
          public: true,
          errors: {
            403: 'the token is not this core’s',
            429: 'too many failed attempts from this address: wait',
          },
        },
        schema: {
          summary: 'Log in with the API token; answers with the session cookie',
          tags: ['session'],
          security: [],
          body: {
            type: 'object',
            required: ['token'],
            properties: { token: { type: 'string', minLength: 1, maxLength: 200 } },
            additionalProperties: false,
          },
          response: { 204: { type: 'null', description: 'Logged in: the session cookie is set' } },
        },
      },
      async (request, reply) => {
        if (!guard.attempt(request, reply, sameToken(request.body.token, parts.token), 'token')) return reply
        setCookie(reply, sessions.open(request.headers['user-agent']))
        return reply.status(204).send()
      },
    )

    app.get(
      '/api/v1/session',
      {
        schema: {
          summary: 'Whether the request is authenticated, and how',
          tags: ['session'],
          response: { 200: { type: 'object', properties: { via: { type: 'string', enum: ['api', 'ui'] } } } },
        },
      },
      async (request) => ({ via: request.actor }),
    )

    app.delete(
      '/api/v1/session',
      {
        config: { public: true },
        schema: {
          summary: 'Log out: ends the session and clears its cookie',
          tags: ['session'],
          response: { 204: { type: 'null', description: 'Logged out' } },
        },
      },
      async (request, reply) => {
        const id = request.cookies[SESSION_COOKIE]
        if (id) sessions.close(id)
        reply.clearCookie(SESSION_COOKIE, { path: '/' })
        return reply.status(204).send()
      },
    )

    app.post(
      '/api/v1/login-codes',
      {
        schema: {
          summary: 'A one-time login URL for a UI window (the desktop shell uses it)',
          tags: ['session'],
          response: { 200: { type: 'object', properties: { url: { type: 'string' } } } },
        },
      },
      async (request) => ({ url: loginUrl(`${request.protocol}://${request.host}`, sessions.createCode()) }),
    )
  }
}

export function loginUrl(base: string, code: string): string {
  return `${base}/login?code=${encodeURIComponent(code)}`
}
