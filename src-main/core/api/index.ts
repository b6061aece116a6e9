import https from 'node:https'
import cookie from '@fastify/cookie'
import websocket from '@fastify/websocket'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import type { CoreParts } from '../app'
import { FailureLimiter } from '../auth/failure-limiter'
import { listenError } from '../broker/listen-error'
import { FrontDoor, loopbackFor, urlHost } from '../exposure'
import { isDiskFull } from '../store/writer'
import { auditRoutes } from './audit-routes'
import { AccessGuard } from './auth'
import { configRoutes } from './config-routes'
import { entityRoutes } from './entity-routes'
import { HostPolicy } from './host-policy'
import { useJsonBodies } from './json-body'
import { apiReference, registerOpenApi } from './openapi'
import { operationRoutes } from './operation-routes'
import { securityHeaders } from './security-headers'
import { seriesSettingsRoutes } from './series-settings-routes'
import { sessionRoutes } from './session-routes'
import { statusRoutes } from './status-routes'
import { streamRoutes } from './stream'
import { syncRoutes } from './sync-routes'
import { teEntityRoutes } from './te-entity-routes'
import { teFileRoutes } from './te-file-routes'
import { telemetryRoutes } from './telemetry-routes'
import { uiRoutes } from './ui-routes'

export interface ApiServer {
  readonly app: FastifyInstance
  listen(host: string, port: number): Promise<string>
  close(): Promise<void>
}

/** thin-edge.io caps JSON bodies at 1 MiB (reference §1.8: body > 1 MiB → 413). */
export const JSON_BODY_LIMIT = 1024 * 1024

export function createApiServer(parts: CoreParts): ApiServer {
  const app = Fastify({
    loggerInstance: parts.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
    forceCloseConnections: true,
    // An entity is addressed by its topic id as one path segment: any id the registry takes
    // (MAX_ENTITY_ID_BYTES, every byte percent-encoded) fits, and a longer one gets its 400 from the
    // id check rather than a 414 from the router (the request head is bounded by Node at 16 KiB).
    routerOptions: { maxParamLength: 8192 },
    // A URL the router cannot even take (bad percent-encoding, a segment over the bound) still
    // answers in the API's shape and with its headers; no route and no access decision is reached.
    frameworkErrors: (error, request, raw) => {
      const reply = raw as FastifyReply
      void securityHeaders(request, reply)
      reply.status(error.statusCode ?? 400).send({ error: error.message })
    },
  })
  useJsonBodies(app)
  const guard = new AccessGuard({
    token: parts.token,
    sessions: parts.sessions,
    hosts: new HostPolicy(parts.options.host, parts.options.allowedHosts),
    failures: new FailureLimiter(parts.logger.child({ component: 'http' })),
  })

  // Every error leaves as {"error": "…"} with its status (DESIGN §3.2).
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A write the full disk cannot take is said as such (RFC 4918 §11.5), not as a fault.
    if (isDiskFull(error)) return reply.status(507).send({ error: `insufficient storage: ${error.message}` })
    const status = error.validation ? 400 : (error.statusCode ?? 500)
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'request failed')
    reply.status(status).send({ error: status >= 500 ? 'internal error' : error.message })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0]}` })
  })

  registerOpenApi(app, parts.version)
  app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  app.register(cookie)
  // No CORS: the API answers the core's own pages and non-browser clients only.
  app.addHook('onRequest', guard.onRequest)
  app.addHook('onSend', securityHeaders)
  app.register(statusRoutes(parts))
  app.register(sessionRoutes(parts, guard))
  app.register(entityRoutes(parts))
  app.register(seriesSettingsRoutes(parts))
  app.register(telemetryRoutes(parts))
  app.register(operationRoutes(parts))
  app.register(configRoutes(parts))
  app.register(auditRoutes(parts))
  app.register(syncRoutes(parts))
  app.register(streamRoutes(parts))
  app.register(teEntityRoutes(parts))
  app.register(teFileRoutes(parts))
  app.register(apiReference())
  app.register(uiRoutes(parts.options.uiDir))

  let door: FrontDoor | undefined
  let secure: https.Server | undefined
  return {
    app,
    async listen(host, port) {
      const { exposure } = parts
      if (!exposure) {
        const address = await app.listen({ host, port }).catch((error) => {
          throw listenError(error, 'HTTP', host, port, '--http-port')
        })
        return address.replace('[::1]', 'localhost')
      }
      // Beyond loopback: HTTPS for every client not on loopback, plain HTTP for loopback ones (the UI on
      // this machine, the agent's downloads, workflow scripts), decided per connection by the front door.
      await app.ready()
      const tls = { cert: exposure.tls.cert, key: exposure.tls.key }
      secure = https.createServer({ ...tls, handshakeTimeout: 10_000, minVersion: 'TLSv1.2' }, app.routing)
      secure.on('upgrade', (request, socket, head) => app.server.emit('upgrade', request, socket, head))
      // Neither server listens itself (the front door does and hands them connections); 'listening' is what
      // starts a Node HTTP server's checks of headersTimeout and requestTimeout on its connections.
      for (const server of [app.server, secure]) server.emit('listening')
      door = new FrontDoor({
        what: 'HTTP',
        flag: '--http-port',
        host,
        port,
        local: (socket) => app.server.emit('connection', socket),
        secure,
      })
      const listening = await door.listen()
      return `http://${urlHost(loopbackFor(host), listening)}`
    },
    async close() {
      door?.close()
      secure?.close()
      await app.close()
    },
  }
}
