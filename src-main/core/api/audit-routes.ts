import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import type { AuditEntry, AuditQuery } from '../audit/audit-store'
import { integerParam, open, pageLimit, parseQueryTime, timeRange, topicIdParam } from './params'

interface AuditQuerystring {
  entity?: string
  action?: string
  from?: string
  to?: string
  limit: number
}

const filters = {
  entity: { type: 'string', description: 'topic id' },
  action: { type: 'string', description: 'e.g. operation.request, config.update, alarm.acknowledge' },
  ...timeRange,
}
/** An export holds the whole trail of a range; the list view pages. */
const EXPORT_LIMIT = 1_000_000

const toQuery = (q: AuditQuerystring): AuditQuery => ({
  entity: q.entity === undefined ? undefined : topicIdParam(q.entity),
  action: q.action,
  from: parseQueryTime(q.from, 'from'),
  to: parseQueryTime(q.to, 'to'),
  limit: q.limit,
})

const CSV_COLUMNS = ['id', 'time', 'actor', 'action', 'entity', 'target', 'before', 'after'] as const

/** RFC 4180: quote every field, double the quotes; a leading =+-@ is defused for spreadsheets. */
function csvField(value: unknown): string {
  let text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return `"${text.replaceAll('"', '""')}"`
}

export function auditCsv(entries: AuditEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const entry of entries) {
    const row = { ...entry, time: new Date(entry.time).toISOString() }
    lines.push(CSV_COLUMNS.map((column) => csvField(row[column])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

/** /api/v1: the audit trail of operator actions, listed and exported. */
export function auditRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: AuditQuerystring }>(
      '/api/v1/audit',
      {
        schema: {
          summary: 'Audit trail of operator actions, newest first',
          tags: ['audit'],
          querystring: {
            type: 'object',
            properties: { ...filters, limit: pageLimit },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: open() } },
        },
      },
      async (request) => parts.audit.query(toQuery(request.query)),
    )

    app.get<{ Querystring: AuditQuerystring & { format: 'csv' | 'json' } }>(
      '/api/v1/audit/export',
      {
        schema: {
          summary: 'The audit trail as a CSV or JSON file download, oldest first',
          tags: ['audit'],
          querystring: {
            type: 'object',
            properties: {
              ...filters,
              format: { type: 'string', enum: ['csv', 'json'], default: 'csv' },
              limit: integerParam(1, EXPORT_LIMIT, { default: EXPORT_LIMIT }),
            },
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const entries = parts.audit.query(toQuery(request.query)).reverse()
        const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19)
        const { format } = request.query
        reply.header('content-disposition', `attachment; filename="edgetwin-audit-${stamp}.${format}"`)
        if (format === 'json')
          return reply.type('application/json; charset=utf-8').send(JSON.stringify(entries, null, 2))
        return reply.type('text/csv; charset=utf-8').send(auditCsv(entries))
      },
    )
  }
}
