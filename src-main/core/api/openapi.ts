import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyPluginAsync, RouteOptions } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Error statuses a route answers beyond the ones every route of its kind has, and when. */
    errors?: Record<number, string>
  }
}

/** Where the rendered API reference is served (Swagger UI from the install: no CDN). */
export const API_DOCS_PATH = '/api/v1/docs'

/** Every error answer of the API (DESIGN §3.2), declared once and referenced by each route. */
const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string', description: 'what went wrong, in words a person can act on' } },
  // Some answers say more (a 409 may carry the current state); the serializer must keep it.
  additionalProperties: true,
  example: { error: 'entity device/press01// not found' },
}

const DESCRIPTION = `The HTTP API of an EdgeTwin core: its twin (entities, measurements, events, alarms), operations,
configuration versions, audit trail and cloud sync. The same data is on the local MQTT bus, which
speaks thin-edge.io's MQTT API; the \`/te/v1\` routes are thin-edge.io's own HTTP API.

**Authentication.** Send \`Authorization: Bearer <token>\`: the token is in \`DATA_DIR/token\` (or given with
\`edgetwin serve --token-file\`), and the ready file (\`--ready-file\`) holds it too. The UI uses a session
cookie instead. Routes marked with no lock need neither.

**Errors.** Every error answers \`{"error": "…"}\` with its status: 400 for a malformed request, 401 without a
valid credential, 403 for a host name or page the core does not answer to, 404 when what the path names
does not exist, 409 when the state changed, 413 for a body over 1 MiB, 429 after too many failed logins,
507 when the disk is full.

**Entities** are named by their topic id as one path segment, URL-encoded: \`device%2Fchild01%2F%2F\`.`

/** 2xx answers in words, where a route does not say more. */
const SUCCESS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the change is published and shows once the bus carries it back',
  204: 'Done; no content',
}

/** The OpenAPI document at /api/v1/openapi.json, built from the route schemas. */
export function registerOpenApi(app: FastifyInstance, version: string): void {
  app.addSchema(ERROR_SCHEMA)
  app.register(swagger, {
    openapi: {
      info: { title: 'EdgeTwin API', version, description: DESCRIPTION },
      servers: [{ url: '/', description: 'this EdgeTwin core' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Shared schemas under their own names (#/components/schemas/Error), not def-0.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    hideUntagged: false,
  })
  // Before the routes are registered, so it sees all of them.
  app.addHook('onRoute', documentResponses)
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
    app.swagger(),
  )
}

/**
 * The rendered reference. Public like the document it renders: it is the same description and holds
 * no data; trying a call from it still needs the token (Authorize) or the UI's session.
 */
export function apiReference(): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true, static: true }
    })
    await app.register(swaggerUi, {
      routePrefix: API_DOCS_PATH,
      // No badge from validator.swagger.io: the page asks nothing of other hosts.
      validatorUrl: false,
      // No top bar: it carries another project's logo and a box that loads any URL's document.
      uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list', tryItOutEnabled: false },
      theme: { title: 'EdgeTwin API reference' },
    })
  }
}

/**
 * Adds to a route's OpenAPI responses what every route of its kind answers, from its schema and
 * config: 400 when it takes parameters or a body, 401 unless public, 403 always (host and origin
 * checks), 404 when its path or `entity` filter names
 * something, 413 and 507 when it writes; plus the route's own `config.errors`. Each one is the
 * shared error body; a 2xx without a description gets one.
 */
function documentResponses(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined
  if (!schema || schema.hide) return
  const responses = { ...(schema.response as Record<string, Record<string, unknown>> | undefined) }
  for (const [status, response] of Object.entries(responses)) {
    if (status.startsWith('2') && response.description === undefined)
      responses[status] = { ...response, description: SUCCESS[status] ?? 'Success' }
  }
  const methods = [route.method].flat()
  const writes = methods.some((method) => method !== 'GET' && method !== 'HEAD')
  const errors: Record<number, string> = {}
  if (schema.params || schema.querystring || schema.body)
    errors[400] =
      'the request is malformed: a parameter or the body is missing, of the wrong type or out of range'
  if (!route.config?.public) errors[401] = 'no bearer token or session cookie, or the session has expired'
  // The Host and Origin checks come before any route, public ones included.
  errors[403] = 'the host name or the requesting page is not one this core answers to'
  if (schema.params || namesEntity(schema.querystring))
    errors[404] = 'what the path or the `entity` filter names does not exist'
  if (schema.body) errors[413] = 'the body is larger than 1 MiB'
  if (writes) errors[507] = 'the disk is full: the change cannot be stored'
  Object.assign(errors, route.config?.errors)
  for (const [status, description] of Object.entries(errors))
    responses[status] ??= { description, $ref: 'Error#' }
  // A public route needs no credential: no lock on it in the reference.
  const security = route.config?.public ? (schema.security ?? []) : schema.security
  route.schema = {
    ...schema,
    response: responses,
    ...(security ? { security } : {}),
  } as RouteOptions['schema']
}

/** Whether a query string takes an `entity` filter, which answers 404 for an unknown entity. */
function namesEntity(querystring: unknown): boolean {
  const properties = (querystring as { properties?: Record<string, unknown> } | undefined)?.properties
  return properties?.entity !== undefined
}
