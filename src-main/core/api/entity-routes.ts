import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { twinKeyError } from '../telemetry/payload'
import { formatTopic } from '../topics'
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
  topicIdParam,
} from './params'
import type { SeriesAnswer } from './types'
import { displayName, entityDetail, entitySummary, seriesView } from './views'

const summary = open({
  id: { type: 'string' },
  type: { type: 'string', enum: ['device', 'child-device', 'service'] },
  parent: { type: ['string', 'null'] },
  name: { type: 'string' },
  health: { type: ['object', 'null'], additionalProperties: true },
  lastSeen: { type: ['number', 'null'] },
  activeAlarms: open(),
})

/** /api/v1: the entity tree, one entity with its twin, and measurement series. */
export function entityRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get<{
      Querystring: { type?: string; parent?: string; q?: string; limit: number; cursor?: string }
    }>(
      '/api/v1/entities',
      {
        schema: {
          summary: 'List entities (the hierarchy as a flat list with parents), in registration order',
          description: PAGED,
          tags: ['entities'],
          querystring: {
            type: 'object',
            properties: {
              type: {
                type: 'string',
                enum: ['device', 'child-device', 'service'],
                description: 'only this kind',
              },
              parent: { type: 'string', description: 'only the children of this entity (topic id)' },
              q: { type: 'string', description: 'Case-insensitive match on id or name' },
              ...pageParams(1000),
            },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: summary } },
        },
      },
      async (request, reply) => {
        const { type, q, limit } = request.query
        const parent = request.query.parent === undefined ? undefined : topicIdParam(request.query.parent)
        const needle = q?.toLowerCase()
        const [after] = parseCursor(request.query.cursor, 1) ?? [0]
        function* matching() {
          for (const e of parts.entities.from(after)) {
            if ((type && e.type !== type) || (parent && e.parent !== parent)) continue
            if (needle && !e.topicId.toLowerCase().includes(needle)) {
              if (!displayName(parts, e).toLowerCase().includes(needle)) continue
            }
            yield e
          }
        }
        return sendPage(request, reply, matching(), {
          limit,
          cursor: (e) => [e.id],
          view: (e) => entitySummary(parts, e),
        })
      },
    )

    app.get<{ Params: { id: string } }>(
      '/api/v1/entities/:id',
      {
        schema: {
          summary: 'One entity: identity, twin, config, capabilities, health, series with latest values',
          tags: ['entities'],
          params: entityIdParams,
          response: {
            200: open({
              ...summary.properties,
              twin: open(),
              capabilities: open(),
              children: { type: 'array', items: { type: 'string' } },
              series: { type: 'array', items: open() },
              registration: open(),
              config: {},
            }),
          },
        },
      },
      async (request) => entityDetail(parts, requireEntity(parts, request.params.id)),
    )

    app.patch<{ Params: { id: string }; Body: { twin: Record<string, unknown> } }>(
      '/api/v1/entities/:id',
      {
        schema: {
          summary:
            'Edit twin fragments: each is published retained on twin/<key> (null removes it); audited with before and after',
          tags: ['entities'],
          params: entityIdParams,
          body: {
            type: 'object',
            required: ['twin'],
            properties: { twin: { type: 'object', minProperties: 1, additionalProperties: true } },
            additionalProperties: false,
          },
          response: { 202: open({ twin: { ...open(), description: 'the fragments as published' } }) },
        },
      },
      async (request, reply) => {
        const entity = requireEntity(parts, request.params.id)
        const edits = Object.entries(request.body.twin)
        for (const [key] of edits) {
          const error = twinKeyError(key)
          if (error) throw new HttpError(400, error)
        }
        const current = parts.entities.twin(entity.topicId)
        const before = Object.fromEntries(edits.map(([key]) => [key, current?.get(key)?.value ?? null]))
        const after = Object.fromEntries(edits)
        parts.audit.append({
          actor: actorOf(request),
          action: 'entity.update',
          entity: entity.topicId,
          target: `twin/${edits.map(([key]) => key).join(',')}`,
          before,
          after,
        })
        // The bus is the source of truth: the twin changes when these come back through ingest.
        await Promise.all(
          edits.map(([key, value]) =>
            parts.bus.publish(
              formatTopic(entity.topicId, { kind: 'twin', key }, parts.options.topicRoot),
              value === null ? '' : JSON.stringify(value),
              { retain: true, qos: 1 },
            ),
          ),
        )
        return reply.status(202).send({ twin: after })
      },
    )

    app.get<{ Params: { id: number }; Querystring: { from?: string; to?: string; points?: number } }>(
      '/api/v1/series/:id',
      {
        schema: {
          summary:
            'Values of a series in a time range, downsampled to at most `points` buckets (min/max/avg)',
          tags: ['measurements'],
          params: numericIdParams,
          querystring: {
            type: 'object',
            properties: {
              from: { type: 'string', description: 'epoch ms or ISO 8601; default: one hour before `to`' },
              to: { type: 'string', description: 'epoch ms or ISO 8601; default: now' },
              points: integerParam(1, 10000, { default: 500, description: 'buckets answered at most' }),
            },
            additionalProperties: false,
          },
          response: {
            200: open({
              series: open(),
              resolution: { type: 'string', enum: ['raw', 'minute', 'hour'] },
              points: {
                type: 'array',
                items: open({
                  time: { type: 'number' },
                  min: { type: 'number' },
                  max: { type: 'number' },
                  avg: { type: 'number' },
                  count: { type: 'integer' },
                }),
              },
            }),
          },
        },
      },
      async (request) => {
        const series = parts.series.get(request.params.id)
        if (!series) throw new HttpError(404, `series ${request.params.id} not found`)
        const to = parseQueryTime(request.query.to, 'to') ?? Date.now()
        const from = parseQueryTime(request.query.from, 'from') ?? to - 3_600_000
        if (from >= to) throw new HttpError(400, '"from" must be before "to"')
        const entity = parts.entities.byId(series.entityId)
        const result = parts.series.query(
          series.id,
          from,
          to,
          request.query.points ?? 500,
          parts.options.retention.rawDays,
        )
        const answer: SeriesAnswer = {
          series: {
            ...seriesView(parts, series, entity?.topicId),
            entity: entity?.topicId ?? null,
            entityId: series.entityId,
          },
          from,
          to,
          ...result,
        }
        return answer
      },
    )
  }
}
