import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import { alarmActionError, applyAlarmAction } from '../telemetry/alarm-actions'
import type { Alarm, AlarmStatus } from '../telemetry/alarm-store'
import { SEVERITIES, type Severity } from '../telemetry/payload'
import { PAGED, pageParams, parseCursor, sendPage } from './paging'
import { actorOf, entityFilter, HttpError, numericIdParams, open, parseQueryTime, timeRange } from './params'
import { alarmActionDeps, alarmView, eventView } from './views'

const list = (values: readonly string[]) => ({
  type: 'string',
  description: `comma-separated: ${values.join(', ')}`,
  pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`,
})

const entityScope = {
  entity: { type: 'string', description: 'topic id, e.g. device/filler//' },
  subtree: { type: 'boolean', default: false, description: 'include the descendants of `entity`' },
}
const alarmSchema = open({
  id: { type: 'integer' },
  entity: { type: 'string' },
  type: { type: 'string' },
  severity: { type: 'string', enum: [...SEVERITIES] },
  status: { type: 'string', enum: ['active', 'acknowledged', 'cleared'] },
  count: { type: 'integer' },
  firstTime: { type: 'number' },
  lastTime: { type: 'number' },
})

/** /api/v1: events and alarms (with acknowledge and clear). */
export function telemetryRoutes(parts: CoreParts): FastifyPluginAsync {
  const findAlarm = (id: number): Alarm => {
    const alarm = parts.alarms.byId(id)
    if (!alarm) throw new HttpError(404, `alarm ${id} not found`)
    return alarm
  }
  const alarmAction = (id: number, action: 'acknowledge' | 'clear', actor: string) => {
    const alarm = findAlarm(id)
    const error = alarmActionError(alarm, action)
    if (error) throw new HttpError(409, error)
    return alarmView(parts, applyAlarmAction(alarmActionDeps(parts), alarm, action, actor))
  }

  return async (app) => {
    app.get<{
      Querystring: {
        entity?: string
        subtree?: boolean
        type?: string
        from?: string
        to?: string
        limit: number
        cursor?: string
      }
    }>(
      '/api/v1/events',
      {
        schema: {
          summary: 'Events, newest first',
          description: PAGED,
          tags: ['events'],
          querystring: {
            type: 'object',
            properties: {
              ...entityScope,
              type: { type: 'string', description: 'only events of this type' },
              ...timeRange,
              ...pageParams(200),
            },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: open() } },
        },
      },
      async (request, reply) => {
        const q = request.query
        const rows = parts.events.query({
          entityIds: entityFilter(parts, q.entity, q.subtree),
          type: q.type,
          from: parseQueryTime(q.from, 'from'),
          to: parseQueryTime(q.to, 'to'),
          after: parseCursor(q.cursor, 2),
          limit: q.limit + 1,
        })
        return sendPage(request, reply, rows, {
          limit: q.limit,
          cursor: (e) => [e.time, e.id],
          view: (e) => eventView(parts, e),
        })
      },
    )

    app.get<{
      Querystring: {
        entity?: string
        subtree?: boolean
        status?: string
        severity?: string
        limit: number
        cursor?: string
      }
    }>(
      '/api/v1/alarms',
      {
        schema: {
          summary: 'Alarms, most recent first; open ones (active, acknowledged) by default',
          description: PAGED,
          tags: ['alarms'],
          querystring: {
            type: 'object',
            properties: {
              ...entityScope,
              status: { ...list(['active', 'acknowledged', 'cleared']), default: 'active,acknowledged' },
              severity: list(SEVERITIES),
              ...pageParams(200),
            },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: alarmSchema } },
        },
      },
      async (request, reply) => {
        const q = request.query
        const rows = parts.alarms.query({
          entityIds: entityFilter(parts, q.entity, q.subtree),
          status: q.status?.split(',') as AlarmStatus[] | undefined,
          severity: q.severity?.split(',') as Severity[] | undefined,
          after: parseCursor(q.cursor, 2),
          limit: q.limit + 1,
        })
        return sendPage(request, reply, rows, {
          limit: q.limit,
          cursor: (a) => [a.lastTime, a.id],
          view: (a) => alarmView(parts, a),
        })
      },
    )

    app.get<{ Params: { id: number } }>(
      '/api/v1/alarms/:id',
      {
        schema: {
          summary: 'One alarm',
          tags: ['alarms'],
          params: numericIdParams,
          response: { 200: alarmSchema },
        },
      },
      async (request) => alarmView(parts, findAlarm(request.params.id)),
    )

    app.post<{ Params: { id: number } }>(
      '/api/v1/alarms/:id/acknowledge',
      {
        schema: {
          summary: 'Acknowledge an active alarm (recorded in the audit trail)',
          tags: ['alarms'],
          params: numericIdParams,
          response: { 200: alarmSchema },
        },
      },
      async (request) => alarmAction(request.params.id, 'acknowledge', actorOf(request)),
    )

    app.post<{ Params: { id: number } }>(
      '/api/v1/alarms/:id/clear',
      {
        schema: {
          summary: 'Clear an open alarm: recorded in the audit and published as an empty retained message',
          tags: ['alarms'],
          params: numericIdParams,
          response: { 200: alarmSchema },
        },
      },
      async (request) => alarmAction(request.params.id, 'clear', actorOf(request)),
    )
  }
}
