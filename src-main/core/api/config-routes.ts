import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { agentCall, declaredTypes, operationSchema } from './operation-routes'
import { actorOf, entityIdParams, HttpError, numericIdParams, open, requireEntity } from './params'
import type { ConfigRestoreInput, ConfigTypeView, ConfigUpdateInput, StaleBase } from './types'
import { displayName } from './views'

const versionSchema = open({
  id: { type: 'integer' },
  entity: { type: 'string' },
  type: { type: 'string' },
  version: { type: 'integer' },
  sha256: { type: 'string' },
  source: { type: 'string', enum: ['snapshot', 'update', 'restore'] },
})
const configVersionSchema = open({
  ...versionSchema.properties,
  size: { type: 'integer', description: 'bytes' },
  operationId: { type: ['integer', 'null'] },
  actor: { type: ['string', 'null'] },
  time: { type: 'number', description: 'epoch ms' },
  path: { type: ['string', 'null'], description: 'where the device keeps the file, when it said' },
})
/** An entity and one of its configuration types, as path parameters. */
const configTypeParams = {
  ...entityIdParams,
  properties: {
    ...entityIdParams.properties,
    type: { type: 'string', description: 'configuration type, as the device declares it (e.g. tedge.toml)' },
  },
}
/** Configuration files are text and small; thin-edge.io's own JSON limit is 1 MiB. */
const CONFIG_CONTENT_LIMIT = 512 * 1024
/** The version an edit started from: a config-version id, or null when none was stored. */
const baseVersionSchema = {
  type: ['integer', 'null'],
  minimum: 1,
  description:
    'id of the configuration version the edit started from (null when none was stored); ' +
    'a send is refused (409) when the latest stored version of the file is another one',
}
/** A 409 that names the version the device has now, so the client can show what changed. */
const staleBaseSchema = {
  description: 'The file changed since `baseVersion` (or the type is not accepted): nothing was sent',
  type: 'object',
  properties: {
    error: { type: 'string' },
    current: {
      ...configVersionSchema,
      type: ['object', 'null'],
      properties: { ...configVersionSchema.properties, content: { type: 'string' } },
    },
  },
  required: ['error'],
}

/** /api/v1: configuration files, their versions, and sending one (an update or a restore). */
export function configRoutes(parts: CoreParts): FastifyPluginAsync {
  const { agent, operations } = parts
  const configTypes = (entity: string, capability: string) => declaredTypes(parts, entity, capability)
  /**
   * Optimistic concurrency for configuration updates: an edit replaces the version it started
   * from, or nothing. Answers the 409 (with the version stored now) when another version took its
   * place; a later version with the same content is no conflict.
   */
  const staleBase = (entity: string, type: string, base: number | null): StaleBase | undefined => {
    const known = parts.entities.get(entity)
    const name = known ? displayName(parts, known) : entity
    // An update still running stores its version only when it succeeds: until then no edit can say
    // what it replaces, and one sent now could undo it.
    for (const running of operations.query({
      entities: [entity],
      operation: 'config_update',
      statuses: ['active'],
      limit: 100,
    })) {
      if (running.cleared || running.payload.type !== type) continue
      return {
        error:
          `${type} of ${name} is being changed by operation #${running.id} (${running.status}). Nothing was ` +
          'sent: wait until it ends, then review the edit against the version it leaves.',
      }
    }
    const latest = parts.configs.latest(entity, type)
    if ((latest?.id ?? null) === base) return undefined
    const started = base === null ? undefined : parts.configs.get(base)
    if (
      latest &&
      started &&
      started.entity === entity &&
      started.type === type &&
      started.sha256 === latest.sha256
    )
      return undefined
    const from =
      base === null ? 'no stored version' : started ? `version ${started.version}` : `version id ${base}`
    return {
      error:
        `${type} of ${name} changed since the edit started from ${from}: ` +
        (latest ? `it is now version ${latest.version}` : 'no version of it is stored') +
        '. Nothing was sent: review the edit against the current version and send it again.',
      current: latest
        ? { ...latest, content: (parts.configs.content(latest.id) ?? Buffer.alloc(0)).toString('utf8') }
        : null,
    }
  }

  return async (app) => {
    app.get<{ Params: { id: string } }>(
      '/api/v1/entities/:id/configs',
      {
        schema: {
          summary: 'Configuration types with their latest version',
          tags: ['configuration'],
          params: entityIdParams,
          response: {
            200: {
              type: 'array',
              items: open({
                type: { type: 'string' },
                canSnapshot: { type: 'boolean' },
                canUpdate: { type: 'boolean' },
                latest: { ...configVersionSchema, type: ['object', 'null'] },
              }),
            },
          },
        },
      },
      async (request): Promise<ConfigTypeView[]> => {
        const entity = requireEntity(parts, request.params.id).topicId
        const snapshot = configTypes(entity, 'config_snapshot')
        const update = configTypes(entity, 'config_update')
        const latest = new Map(parts.configs.latestPerType(entity).map((v) => [v.type, v]))
        const types = [...new Set([...snapshot, ...update, ...latest.keys()])].sort()
        return types.map((type) => ({
          type,
          canSnapshot: snapshot.includes(type),
          canUpdate: update.includes(type),
          latest: latest.get(type) ?? null,
        }))
      },
    )

    app.get<{ Params: { id: string; type: string } }>(
      '/api/v1/entities/:id/configs/:type/versions',
      {
        schema: {
          summary: 'Versions of one configuration file, newest first',
          tags: ['configuration'],
          params: configTypeParams,
          response: { 200: { type: 'array', items: versionSchema } },
        },
      },
      async (request) => {
        const entity = requireEntity(parts, request.params.id).topicId
        return parts.configs.list(entity, request.params.type)
      },
    )

    app.get<{ Params: { id: number } }>(
      '/api/v1/config-versions/:id',
      {
        schema: {
          summary: 'One configuration version with its content',
          tags: ['configuration'],
          params: numericIdParams,
          response: {
            200: open({
              ...configVersionSchema.properties,
              content: { type: 'string', description: 'the file, UTF-8' },
            }),
          },
        },
      },
      async (request) => {
        const version = parts.configs.get(request.params.id)
        const content = version && parts.configs.content(version.id)
        if (!version || !content)
          throw new HttpError(404, `configuration version ${request.params.id} not found`)
        return { ...version, content: content.toString('utf8') }
      },
    )

    app.post<{ Params: { id: string; type: string }; Body: ConfigUpdateInput }>(
      '/api/v1/entities/:id/configs/:type',
      {
        schema: {
          summary: 'Send a new configuration (a config_update, recorded in the audit trail)',
          tags: ['configuration'],
          params: configTypeParams,
          body: {
            type: 'object',
            required: ['content', 'baseVersion'],
            properties: {
              content: { type: 'string', maxLength: CONFIG_CONTENT_LIMIT },
              baseVersion: baseVersionSchema,
            },
            additionalProperties: false,
          },
          response: { 201: operationSchema, 409: staleBaseSchema },
        },
      },
      async (request, reply) => {
        const entity = requireEntity(parts, request.params.id).topicId
        const { type } = request.params
        if (!configTypes(entity, 'config_update').includes(type)) {
          throw new HttpError(409, `${entity} does not accept configuration type "${type}"`)
        }
        const stale = staleBase(entity, type, request.body.baseVersion)
        if (stale) return reply.status(409).send(stale)
        const content = Buffer.from(request.body.content, 'utf8')
        const created = agentCall(() => agent.requestConfigUpdate(entity, type, content, actorOf(request)))
        return reply.status(201).send(agent.view(created))
      },
    )

    app.post<{ Params: { id: number }; Body: ConfigRestoreInput }>(
      '/api/v1/config-versions/:id/restore',
      {
        schema: {
          summary: 'Send an earlier configuration version again (a config_update, audited)',
          description:
            '`baseVersion` is the version the restore replaces, as the client showed it (the diff ' +
            'the user confirmed): 409 when another version took its place since.',
          tags: ['configuration'],
          params: numericIdParams,
          body: {
            type: 'object',
            required: ['baseVersion'],
            properties: { baseVersion: baseVersionSchema },
            additionalProperties: false,
          },
          response: { 201: operationSchema, 409: staleBaseSchema },
        },
      },
      async (request, reply) => {
        const version = parts.configs.get(request.params.id)
        const content = version && parts.configs.content(version.id)
        if (!version || !content)
          throw new HttpError(404, `configuration version ${request.params.id} not found`)
        if (!configTypes(version.entity, 'config_update').includes(version.type)) {
          throw new HttpError(409, `${version.entity} does not accept configuration type "${version.type}"`)
        }
        const stale = staleBase(version.entity, version.type, request.body.baseVersion)
        if (stale) return reply.status(409).send(stale)
        const created = agentCall(() =>
          agent.requestConfigUpdate(version.entity, version.type, content, actorOf(request), version),
        )
        return reply.status(201).send(agent.view(created))
      },
    )
  }
}
