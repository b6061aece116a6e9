import { readFile } from 'node:fs/promises'
import type { FastifyPluginAsync } from 'fastify'
import { AgentError, type Operation } from '../agent'
import type { CoreParts } from '../app'
import { PAGED, pageParams, parseCursor, sendPage } from './paging'
import {
  actorOf,
  entityIdParams,
  HttpError,
  integerParam,
  numericIdParams,
  open,
  parseQueryTime,
  requireEntity,
  timeRange,
  topicIdParam,
} from './params'
import type { OperationDetail, OperationRequest, SoftwareView } from './types'

export const operationSchema = open({
  id: { type: 'integer' },
  entity: { type: 'string' },
  operation: { type: 'string' },
  cmdId: { type: 'string' },
  status: { type: 'string' },
  terminal: { type: 'boolean' },
  reason: { type: ['string', 'null'] },
  executor: { type: 'string', enum: ['edgetwin', 'external'] },
  cancellable: { type: 'boolean' },
})
/** The types an entity declares for a capability (`{"types":[…]}`: software, configuration, log). */
export function declaredTypes(
  parts: Pick<CoreParts, 'entities'>,
  entity: string,
  capability: string,
): string[] {
  const types = (parts.entities.capabilities(entity)?.get(capability) as { types?: unknown } | undefined)
    ?.types
  return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : []
}

/** The agent's errors carry their HTTP status. */
export function agentCall<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    if (error instanceof AgentError) throw new HttpError(error.statusCode, error.message)
    throw error
  }
}

/** /api/v1: operations (request, follow, cancel, history) and software. */
export function operationRoutes(parts: CoreParts): FastifyPluginAsync {
  const { agent, operations } = parts
  const find = (id: number): Operation => {
    const operation = operations.byId(id)
    if (!operation) throw new HttpError(404, `operation ${id} not found`)
    return operation
  }

  return async (app) => {
    app.get<{
      Querystring: {
        entity?: string
        subtree?: boolean
        operation?: string
        status?: string
        from?: string
        to?: string
        before?: number
        limit: number
        cursor?: string
      }
    }>(
      '/api/v1/operations',
      {
        schema: {
          summary: 'Operations (commands) of every entity, newest first',
          description: PAGED,
          tags: ['operations'],
          querystring: {
            type: 'object',
            properties: {
              entity: { type: 'string', description: 'only operations of this entity (topic id)' },
              subtree: { type: 'boolean', default: false, description: 'with `entity`: its descendants too' },
              operation: { type: 'string', description: 'only this operation, e.g. software_update' },
              status: { type: 'string', description: 'comma-separated statuses; `active` = not finished' },
              ...timeRange,
              before: integerParam(1, Number.MAX_SAFE_INTEGER, {
                description: 'only operations with a smaller id: the smallest id of the previous page',
              }),
              ...pageParams(200),
            },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: operationSchema } },
        },
      },
      async (request, reply) => {
        const q = request.query
        let entities: string[] | undefined
        if (q.entity !== undefined) {
          const entity = requireEntity(parts, q.entity)
          entities = q.subtree
            ? parts.entities.subtree(entity.topicId).map((e) => e.topicId)
            : [entity.topicId]
        }
        // `cursor` is the id the last page ended on: the same as `before`, which the UI has always sent.
        const [after] = parseCursor(q.cursor, 1) ?? []
        const before = after === undefined ? q.before : Math.min(after, q.before ?? after)
        const rows = operations.query({
          entities,
          operation: q.operation,
          statuses: q.status?.split(',').filter(Boolean),
          from: parseQueryTime(q.from, 'from'),
          to: parseQueryTime(q.to, 'to'),
          before,
          limit: q.limit + 1,
        })
        return sendPage(request, reply, rows, {
          limit: q.limit,
          cursor: (o) => [o.id],
          view: (o) => agent.view(o),
        })
      },
    )

    app.get<{ Params: { id: number } }>(
      '/api/v1/operations/:id',
      {
        schema: {
          summary: 'One operation with its states and workflow log',
          tags: ['operations'],
          params: numericIdParams,
          response: { 200: operationSchema },
        },
      },
      async (request): Promise<OperationDetail> => {
        const operation = find(request.params.id)
        return {
          ...agent.view(operation),
          states: operations.states(operation.id),
          log: agent.log(operation),
        }
      },
    )

    app.get<{ Params: { id: number } }>(
      '/api/v1/operations/:id/file',
      {
        schema: {
          summary: 'The file an operation produced (an uploaded log, a configuration snapshot)',
          tags: ['operations'],
          params: numericIdParams,
          response: {
            200: { description: 'The file', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      async (request, reply) => {
        const operation = find(request.params.id)
        const file = agent.localFile(operation.payload.tedgeUrl)
        const content = file && (await readFile(file).catch(() => undefined))
        if (!content) throw new HttpError(404, `operation ${operation.id} has no file here`)
        return reply.type('text/plain; charset=utf-8').send(content)
      },
    )

    app.post<{ Params: { id: string }; Body: OperationRequest }>(
      '/api/v1/entities/:id/operations',
      {
        schema: {
          summary: 'Request an operation: publishes its `init` command (recorded in the audit trail)',
          tags: ['operations'],
          params: entityIdParams,
          body: {
            type: 'object',
            required: ['operation'],
            properties: { operation: { type: 'string', minLength: 1 }, payload: open() },
            additionalProperties: false,
          },
          response: { 201: operationSchema },
        },
        config: { errors: { 409: 'the entity does not declare this operation' } },
      },
      async (request, reply) => {
        const entity = topicIdParam(request.params.id)
        const { operation, payload = {} } = request.body
        if (operation === 'config_update') {
          throw new HttpError(400, 'send configurations with POST /api/v1/entities/{id}/configs/{type}')
        }
        const created = agentCall(() => agent.request(entity, operation, payload, actorOf(request)))
        return reply.status(201).send(agent.view(created))
      },
    )

    app.post<{ Params: { id: number } }>(
      '/api/v1/operations/:id/cancel',
      {
        schema: {
          summary: 'Cancel a running operation where its workflow allows (recorded in the audit trail)',
          tags: ['operations'],
          params: numericIdParams,
          response: { 200: operationSchema },
        },
        config: { errors: { 409: 'the operation is finished, or its workflow cannot be cancelled now' } },
      },
      async (request) => {
        const operation = find(request.params.id)
        return agent.view(agentCall(() => agent.cancel(operation, actorOf(request))))
      },
    )

    app.get<{ Params: { id: string } }>(
      '/api/v1/entities/:id/software',
      {
        schema: {
          summary: 'Software installed, as last reported',
          tags: ['software'],
          params: entityIdParams,
          response: {
            200: open({
              types: { type: 'array', items: { type: 'string' }, description: 'software types it accepts' },
              modules: {
                type: 'array',
                items: open({
                  type: { type: 'string' },
                  name: { type: 'string' },
                  version: { type: ['string', 'null'] },
                }),
              },
              updatedAt: { type: ['number', 'null'], description: 'epoch ms' },
            }),
          },
        },
      },
      async (request): Promise<SoftwareView> => {
        const entity = requireEntity(parts, request.params.id).topicId
        const inventory = parts.software.get(entity)
        return {
          types: declaredTypes(parts, entity, 'software_update'),
          modules: inventory?.modules ?? [],
          updatedAt: inventory?.updatedAt ?? null,
        }
      },
    )
  }
}
