import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { type SeriesRef, type SeriesSettings, settingsError } from '../telemetry/series-settings'
import { actorOf, HttpError, noContent, numericIdParams } from './params'

const finite = { type: 'number' } as const
/** The settings body and answer. Unknown fields are refused, so a typo is a 400, not a silent no-op. */
const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    displayName: {
      type: 'string',
      description: 'The name shown instead of the series id, e.g. "Fill pressure"',
    },
    unit: { type: 'string', description: 'Shown instead of the unit the device reports' },
    range: {
      type: 'object',
      description: 'A fixed y range of charts; absent: automatic',
      required: ['min', 'max'],
      additionalProperties: false,
      properties: { min: finite, max: finite },
    },
    limits: {
      type: 'object',
      description: 'Limits in the series unit, in order lowLow ≤ low < high ≤ highHigh; any may be absent',
      additionalProperties: false,
      properties: { lowLow: finite, low: finite, high: finite, highHigh: finite },
    },
    setpoint: finite,
    expectedPeriod: {
      type: 'number',
      description: 'Seconds between values when the device is well; older values are stale',
    },
  },
} as const

const answerSchema = {
  type: 'object',
  properties: {
    series: { type: 'integer' },
    entity: { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    settings: { anyOf: [settingsSchema, { type: 'null' }] },
  },
} as const

/** /api/v1/series/{id}/settings: how a series is named, scaled and judged (limits, setpoint, period). */
export function seriesSettingsRoutes(parts: CoreParts): FastifyPluginAsync {
  const refOf = (id: number): SeriesRef & { id: number } => {
    const series = parts.series.get(id)
    const entity = series && parts.entities.byId(series.entityId)
    if (!series || !entity) throw new HttpError(404, `series ${id} not found`)
    return { id, entity: entity.topicId, type: series.type, name: series.name }
  }
  const answer = (ref: SeriesRef & { id: number }, settings: SeriesSettings | undefined) => ({
    series: ref.id,
    entity: ref.entity,
    type: ref.type,
    name: ref.name,
    settings: settings ?? null,
  })

  return async (app) => {
    app.get<{ Params: { id: number } }>(
      '/api/v1/series/:id/settings',
      {
        schema: {
          summary: 'The settings of a series (null when none are set)',
          tags: ['measurements'],
          params: numericIdParams,
          response: { 200: answerSchema },
        },
      },
      async (request) => {
        const ref = refOf(request.params.id)
        return answer(ref, parts.seriesSettings.get(ref))
      },
    )

    app.put<{ Params: { id: number }; Body: SeriesSettings }>(
      '/api/v1/series/:id/settings',
      {
        schema: {
          summary: 'Replace the settings of a series; audited with before and after',
          description: 'Fields left out are unset (an empty object removes every setting).',
          tags: ['measurements'],
          params: numericIdParams,
          body: settingsSchema,
          response: { 200: answerSchema },
        },
        config: { errors: { 409: 'as many series as allowed already have settings' } },
      },
      async (request) => {
        const ref = refOf(request.params.id)
        const error = settingsError(request.body)
        if (error) throw new HttpError(400, error)
        const before = parts.seriesSettings.get(ref) ?? null
        let after: SeriesSettings | undefined
        try {
          after = parts.seriesSettings.put(ref, request.body)
        } catch (bound) {
          if (bound instanceof RangeError) throw new HttpError(409, bound.message)
          throw bound
        }
        parts.audit.append({
          actor: actorOf(request),
          action: 'series.settings',
          entity: ref.entity,
          target: `${ref.type}/${ref.name}`,
          before,
          after: after ?? null,
        })
        return answer(ref, after)
      },
    )

    app.delete<{ Params: { id: number } }>(
      '/api/v1/series/:id/settings',
      {
        schema: {
          summary: 'Remove the settings of a series (it is shown as the device reports it); audited',
          tags: ['measurements'],
          params: numericIdParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const ref = refOf(request.params.id)
        const before = parts.seriesSettings.get(ref)
        if (before && parts.seriesSettings.remove(ref)) {
          parts.audit.append({
            actor: actorOf(request),
            action: 'series.settings',
            entity: ref.entity,
            target: `${ref.type}/${ref.name}`,
            before,
            after: null,
          })
        }
        return noContent(reply)
      },
    )
  }
}
