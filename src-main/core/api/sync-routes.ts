import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { DESIRED_OPERATION, DESIRED_POLICIES } from '../twin/desired-store'
import {
  actorOf,
  entityIdParams,
  HttpError,
  numericIdParams,
  open,
  pageLimit,
  requireEntity,
  topicIdParam,
} from './params'
import type { ConflictView, DesiredPatchInput, DesiredView, SyncConfigInput } from './types'

const secretInput = {
  type: ['string', 'null'],
  description: 'given in full; null removes it; never answered back',
}

const secretView = open({ set: { type: 'boolean' }, hint: { type: ['string', 'null'] } })
const syncStatusSchema = open({
  enabled: { type: 'boolean' },
  state: { type: 'string', enum: ['off', 'connecting', 'connected', 'disconnected'] },
  url: { type: 'string' },
  siteId: { type: 'string' },
  since: { type: 'number', description: 'when the current state began, epoch ms' },
  lastError: { type: ['string', 'null'] },
  nextRetryAt: {
    type: ['number', 'null'],
    description: 'next connection attempt while disconnected, epoch ms',
  },
  backlog: open(),
  maxBacklogBytes: { type: 'integer' },
  sent: open(),
  throughput: open(),
  lastSyncAt: { type: ['number', 'null'] },
  dropped: open(),
  received: open(),
  conflicts: open({ open: { type: 'integer' }, total: { type: 'integer' } }),
})
const syncConfigSchema = open({
  enabled: { type: 'boolean' },
  url: { type: 'string' },
  siteId: { type: 'string' },
  username: { type: 'string' },
  password: secretView,
  clientCert: secretView,
  clientKey: secretView,
  ca: secretView,
  batchBytes: { type: 'integer' },
  batchMs: { type: 'integer' },
  maxBacklogBytes: { type: 'integer' },
})
const conflictSide = open({
  value: {},
  deleted: { type: 'boolean' },
  origin: { type: 'string' },
  hlc: { type: 'string' },
})
const conflictSchema = open({
  id: { type: 'integer' },
  entity: { type: 'string' },
  property: { type: 'string' },
  time: { type: 'number' },
  policy: { type: 'string', enum: [...DESIRED_POLICIES] },
  edge: conflictSide,
  cloud: conflictSide,
  winner: { type: 'string', enum: ['edge', 'cloud'] },
  status: { type: 'string', enum: ['open', 'resolved'] },
  resolution: { type: ['object', 'null'], additionalProperties: true },
})
const desiredSchema = open({
  entity: { type: 'string' },
  version: { type: 'integer' },
  syncedVersion: { type: ['integer', 'null'] },
  properties: {
    type: 'array',
    items: open({
      name: { type: 'string' },
      value: {},
      deleted: { type: 'boolean' },
      version: { type: 'integer' },
      policy: { type: 'string', enum: [...DESIRED_POLICIES] },
      state: { type: 'string', enum: ['pending', 'in-progress', 'applied', 'refused', 'drifted'] },
      reported: {
        type: ['object', 'null'],
        description: "the device's twin fragment of the same name, and when it was received",
        properties: { value: {}, time: { type: 'number' } },
      },
    }),
  },
  supported: { type: 'boolean', description: 'whether the entity declares desired_update' },
  command: { type: ['object', 'null'], additionalProperties: true },
  accepts: {
    type: ['object', 'null'],
    description: 'the properties the device says it accepts (its desired_update capability), by name',
    additionalProperties: open({
      type: { type: 'string', enum: ['number', 'integer', 'string', 'boolean'] },
      minimum: { type: 'number' },
      maximum: { type: 'number' },
      unit: { type: 'string' },
      enum: { type: 'array', items: {} },
      pattern: { type: 'string' },
      default: {},
      description: { type: 'string' },
    }),
  },
})

/** The desired view of an entity, with whether it can apply desired properties and its command's state. */
export function desiredView(parts: CoreParts, entity: string): DesiredView {
  const command = parts.desired.command(entity)
  const operation = command && parts.operations.byId(command.operationId)
  const twin = parts.entities.twin(entity)
  return parts.desired.view(entity, {
    capability: parts.entities.capabilities(entity)?.get(DESIRED_OPERATION),
    commandStatus: operation?.status,
    reported: (name) => twin?.get(name),
  })
}

/** /api/v1: cloud sync (configuration, status, conflicts) and the desired properties of entities. */
export function syncRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/v1/sync/status',
      {
        schema: {
          summary: 'Cloud sync status: connection, backlog, throughput, drops, conflicts',
          tags: ['sync'],
          response: { 200: syncStatusSchema },
        },
      },
      async () => parts.sync.status(),
    )

    app.get(
      '/api/v1/sync/config',
      {
        schema: {
          summary: 'Cloud sync configuration; secrets only say whether they are set',
          tags: ['sync'],
          response: { 200: syncConfigSchema },
        },
      },
      async () => parts.sync.configView(),
    )

    app.put<{ Body: SyncConfigInput }>(
      '/api/v1/sync/config',
      {
        schema: {
          summary: 'Change the cloud sync configuration (fields left out stay), turn sync on or off',
          tags: ['sync'],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: { type: 'boolean' },
              url: { type: 'string', description: 'mqtt://, mqtts://, ws:// or wss://' },
              siteId: { type: 'string' },
              username: { type: 'string' },
              password: secretInput,
              clientCert: { ...secretInput, description: 'PEM; null removes it' },
              clientKey: { ...secretInput, description: 'PEM; null removes it' },
              ca: { ...secretInput, description: 'PEM; null removes it' },
              batchBytes: { type: 'integer' },
              batchMs: { type: 'integer' },
              maxBacklogBytes: { type: 'integer' },
            },
          },
          response: { 200: syncConfigSchema },
        },
      },
      async (request) => parts.sync.configure(request.body, actorOf(request)),
    )

    app.post(
      '/api/v1/sync/retry',
      {
        schema: {
          summary: 'While disconnected, try to connect now instead of after the backoff (409 otherwise)',
          tags: ['sync'],
          response: { 200: syncStatusSchema },
        },
        config: { errors: { 409: 'sync is not waiting to reconnect' } },
      },
      async () => {
        if (!parts.sync.retryNow()) throw new HttpError(409, 'sync is not waiting to reconnect')
        return parts.sync.status()
      },
    )

    app.get<{ Querystring: { status?: 'open' | 'resolved'; entity?: string; limit: number } }>(
      '/api/v1/sync/conflicts',
      {
        schema: {
          summary: 'Conflicts between edge and cloud changes of desired properties, newest first',
          tags: ['sync'],
          querystring: {
            type: 'object',
            properties: {
              status: {
                type: 'string',
                enum: ['open', 'resolved'],
                description: 'only open or resolved ones',
              },
              entity: { type: 'string', description: 'only those of this entity (topic id)' },
              limit: pageLimit,
            },
          },
          response: { 200: { type: 'array', items: conflictSchema } },
        },
      },
      async (request): Promise<ConflictView[]> => {
        const { status, entity, limit } = request.query
        return parts.desired.conflicts({
          status,
          entity: entity === undefined ? undefined : topicIdParam(entity),
          limit,
        })
      },
    )

    app.post<{ Params: { id: number }; Body: { choice: 'edge' | 'cloud' } }>(
      '/api/v1/sync/conflicts/:id/resolve',
      {
        schema: {
          summary:
            "Settle a conflict: keep the policy's winner, or apply the other side's value as a new change",
          tags: ['sync'],
          params: numericIdParams,
          body: {
            type: 'object',
            required: ['choice'],
            additionalProperties: false,
            properties: { choice: { type: 'string', enum: ['edge', 'cloud'] } },
          },
          response: { 200: conflictSchema },
        },
        config: { errors: { 409: 'the conflict is already resolved' } },
      },
      async (request) => parts.desired.resolve(request.params.id, request.body.choice, actorOf(request)),
    )

    app.get<{ Params: { id: string } }>(
      '/api/v1/entities/:id/desired',
      {
        schema: {
          summary: "An entity's desired properties with the device's acknowledgements",
          tags: ['desired'],
          params: entityIdParams,
          response: { 200: desiredSchema },
        },
      },
      async (request) => desiredView(parts, requireEntity(parts, request.params.id).topicId),
    )

    app.patch<{ Params: { id: string }; Body: DesiredPatchInput }>(
      '/api/v1/entities/:id/desired',
      {
        schema: {
          summary:
            'Change desired properties (null removes one); 409 if baseVersion is stale for one of them',
          tags: ['desired'],
          params: entityIdParams,
          body: {
            type: 'object',
            required: ['properties'],
            additionalProperties: false,
            properties: {
              properties: open(),
              baseVersion: { type: 'integer', minimum: 0 },
              policies: {
                type: 'object',
                additionalProperties: { type: 'string', enum: [...DESIRED_POLICIES] },
              },
            },
          },
          response: { 200: desiredSchema },
        },
        config: { errors: { 409: 'baseVersion is stale: a property changed after it' } },
      },
      async (request) => {
        const entity = requireEntity(parts, request.params.id).topicId
        parts.desired.patch(entity, request.body, actorOf(request))
        return desiredView(parts, entity)
      },
    )

    app.post<{ Params: { id: string }; Body: { names: string[] } }>(
      '/api/v1/entities/:id/desired/reapply',
      {
        schema: {
          summary:
            'Send desired properties to the device again, unchanged (after it reverted them outside EdgeTwin)',
          tags: ['desired'],
          params: entityIdParams,
          body: {
            type: 'object',
            required: ['names'],
            additionalProperties: false,
            properties: {
              names: {
                type: 'array',
                minItems: 1,
                maxItems: 256,
                uniqueItems: true,
                items: { type: 'string' },
              },
            },
          },
          response: { 200: desiredSchema },
        },
        config: { errors: { 404: 'the entity, or one of the named desired properties, does not exist' } },
      },
      async (request) => {
        const entity = requireEntity(parts, request.params.id).topicId
        parts.desired.reapply(entity, request.body.names, actorOf(request))
        return desiredView(parts, entity)
      },
    )
  }
}
