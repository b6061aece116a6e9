import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import {
  alarmActionError,
  applyAlarmAction,
  COMMENT_MAX,
  commentAlarm,
  commentError,
  SHELVE_MINUTES,
  SHELVE_REASON_MAX,
  shelveAlarm,
  shelveError,
  unshelveAlarm,
  unshelveError,
} from '../telemetry/alarm-actions'
import type { Alarm, AlarmStatus } from '../telemetry/alarm-store'
import { SEVERITIES, type Severity } from '../telemetry/payload'
import { PAGED, pageParams, parseCursor, sendPage } from './paging'
import { actorOf, entityFilter, HttpError, numericIdParams, open, parseQueryTime, timeRange } from './params'
import { alarmActionDeps, alarmDetailView, alarmView, eventView } from './views'

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
  text: { type: 'string' },
  count: { type: 'integer', description: 'times raised while open' },
  firstTime: { type: 'number', description: 'epoch ms' },
  lastTime: { type: 'number', description: 'epoch ms' },
  acknowledgedAt: { type: ['number', 'null'] },
  acknowledgedBy: { type: ['string', 'null'] },
  clearedAt: { type: ['number', 'null'] },
  clearedBy: { type: ['string', 'null'] },
  shelvedUntil: {
    type: ['number', 'null'],
    description:
      'epoch ms; while shelved the alarm is left out of the banner, horn and unacknowledged counts',
  },
  shelvedBy: { type: ['string', 'null'] },
  shelveReason: { type: ['string', 'null'] },
  comments: {
    type: 'array',
    items: {
      type: 'object',
      properties: { time: { type: 'number' }, author: { type: 'string' }, text: { type: 'string' } },
    },
  },
  firstOut: { type: 'boolean', description: 'the first alarm of a burst on its line (raised within 10 s)' },
  occurrences: {
    type: 'array',
    items: { type: 'number' },
    description: 'raise times, the latest 20, oldest first',
  },
})
const historyEntry = {
  type: 'object',
  required: ['kind', 'time'],
  properties: {
    kind: {
      type: 'string',
      enum: ['raised', 'acknowledged', 'shelved', 'unshelved', 'shelf-ended', 'comment', 'cleared'],
    },
    time: { type: 'number', description: 'epoch ms' },
    occurrence: {
      type: 'integer',
      description: 'raised: which raise (1 the first); a gap in the numbers is raises not kept',
    },
    by: {
      type: ['string', 'null'],
      description: 'who acted: `device` for a clear on the bus, else the operator; null when not known',
    },
    until: { type: 'number', description: 'shelved: the end of the shelf, epoch ms' },
    reason: { type: 'string', description: 'shelved: why' },
    text: { type: 'string', description: 'comment: its text' },
  },
}
const alarmDetailSchema = {
  ...alarmSchema,
  properties: {
    ...alarmSchema.properties,
    history: {
      type: 'array',
      items: historyEntry,
      description:
        'its life oldest first: the first raise and the latest 20, the acknowledgement, the latest 50 shelves set or ended, comments, the clear',
    },
  },
}
const shelveBody = {
  type: 'object',
  required: ['minutes', 'reason'],
  properties: {
    minutes: { type: 'integer', minimum: SHELVE_MINUTES.min, maximum: SHELVE_MINUTES.max },
    reason: { type: 'string', minLength: 1, maxLength: SHELVE_REASON_MAX },
  },
  additionalProperties: false,
}
const commentBody = {
  type: 'object',
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1, maxLength: COMMENT_MAX } },
  additionalProperties: false,
}

/** /api/v1: events and alarms (with acknowledge, clear, shelve, unshelve and comments). */
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
  const refuse = (error: [number, string] | undefined) => {
    if (error) throw new HttpError(error[0], error[1])
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
          summary: 'One alarm with its history',
          tags: ['alarms'],
          params: numericIdParams,
          response: { 200: alarmDetailSchema },
        },
      },
      async (request) => {
        // Actions are audited in the next batch (within 20 ms): write it now, so the history
        // answers an action just taken.
        if (parts.writer.pending > 0 && !parts.writer.failing) parts.writer.flush()
        return alarmDetailView(parts, findAlarm(request.params.id))
      },
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

    app.post<{ Params: { id: number }; Body: { minutes: number; reason: string } }>(
      '/api/v1/alarms/:id/shelve',
      {
        schema: {
          summary: 'Shelve an open alarm for 5 minutes to 24 hours, with a reason (audited)',
          description:
            'A shelved alarm stays open and listed but is left out of the banner, the horn and the unacknowledged counts until the shelf ends: its time is up (the core ends it, also across a restart) or it is unshelved. Shelving again replaces the shelf; a re-raise after a clear while the shelf runs is raised shelved.',
          tags: ['alarms'],
          params: numericIdParams,
          body: shelveBody,
          response: { 200: alarmSchema },
        },
      },
      async (request) => {
        const alarm = findAlarm(request.params.id)
        refuse(shelveError(alarm, request.body.minutes, request.body.reason))
        return alarmView(parts, shelveAlarm(alarmActionDeps(parts), alarm, request.body, actorOf(request)))
      },
    )

    app.post<{ Params: { id: number } }>(
      '/api/v1/alarms/:id/unshelve',
      {
        schema: {
          summary: 'End the shelf of an alarm now (audited)',
          tags: ['alarms'],
          params: numericIdParams,
          response: { 200: alarmSchema },
        },
      },
      async (request) => {
        const alarm = findAlarm(request.params.id)
        const error = unshelveError(alarm)
        if (error) throw new HttpError(409, error)
        return alarmView(parts, unshelveAlarm(alarmActionDeps(parts), alarm, actorOf(request)))
      },
    )

    app.post<{ Params: { id: number }; Body: { text: string } }>(
      '/api/v1/alarms/:id/comments',
      {
        schema: {
          summary: 'Add a comment to an alarm, open or cleared (at most 50 per alarm; audited)',
          tags: ['alarms'],
          params: numericIdParams,
          body: commentBody,
          response: { 200: alarmSchema },
        },
      },
      async (request) => {
        const alarm = findAlarm(request.params.id)
        refuse(commentError(alarm, request.body.text))
        return alarmView(
          parts,
          commentAlarm(alarmActionDeps(parts), alarm, request.body.text, actorOf(request)),
        )
      },
    )
  }
}
