import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CoreParts } from '../app'
import { normalizeEntityId } from '../topics'
import type { Entity } from '../twin/entity-store'

/** A request-time error with its HTTP status, rendered as {"error": …} by the error handler. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** Times in queries: epoch milliseconds or an ISO 8601 / RFC 3339 string. */
export function parseQueryTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const time = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(time))
    throw new HttpError(400, `"${name}" must be epoch milliseconds or an ISO 8601 time`)
  return time
}

/** A topic id from a request, padded to four segments; 400 when it is not one. */
export function topicIdParam(raw: string): string {
  try {
    return normalizeEntityId(raw)
  } catch (error) {
    throw new HttpError(400, (error as Error).message)
  }
}

export function requireEntity(parts: Pick<CoreParts, 'entities'>, raw: string): Entity {
  const topicId = topicIdParam(raw)
  const entity = parts.entities.get(topicId)
  if (!entity) throw new HttpError(404, `entity ${topicId} not found`)
  return entity
}

/** Entity ids an `entity` filter covers: the entity alone, or with `subtree` its descendants too. */
export function entityFilter(
  parts: Pick<CoreParts, 'entities'>,
  topicId: string | undefined,
  subtree: boolean | undefined,
): number[] | undefined {
  if (topicId === undefined) return undefined
  const entity = requireEntity(parts, topicId)
  return subtree ? parts.entities.subtree(entity.topicId).map((e) => e.id) : [entity.id]
}

export function noContent(reply: FastifyReply): FastifyReply {
  return reply.status(204).send()
}

/** A JSON object schema whose known properties are documented and whose others pass through. */
export const open = (properties: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  additionalProperties: true,
})

/** Who acts, for the audit trail: the UI's session (`ui`) or a bearer token (`api`). */
export const actorOf = (request: FastifyRequest): string => request.actor ?? 'api'

/** Route params `{id}` naming an entity by its topic id. */
export const entityIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', description: 'Topic id, URL-encoded as one segment: device%2Fchild01%2F%2F' },
  },
} as const

/**
 * An integer query or path parameter within [minimum, maximum]. Ajv's coercion turns the strings
 * "Infinity" and "1e999" into a number that is not finite, which then passes `type: integer` and
 * skips the range checks (Ajv 8 with strictNumbers), reaching SQLite as a LIMIT it refuses. The
 * inner schema checks the coerced number again, so those values are refused with a 400.
 */
export const integerParam = (minimum: number, maximum: number, extra: Record<string, unknown> = {}) =>
  ({ type: 'integer', minimum, maximum, ...extra, allOf: [{ type: 'integer' }] }) as const

/** Route params `{id}` naming a stored row (alarm, operation, configuration version). */
export const numericIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: integerParam(1, Number.MAX_SAFE_INTEGER, { description: 'the row id, as lists answer it' }),
  },
} as const

/** How many rows a list answers with. */
export const pageLimit = integerParam(1, 10000, { default: 200, description: 'rows answered at most' })

/** `from` and `to` query parameters, parsed by parseQueryTime. */
export const timeRange = {
  from: { type: 'string', description: 'epoch ms or ISO 8601' },
  to: { type: 'string', description: 'epoch ms or ISO 8601' },
} as const
