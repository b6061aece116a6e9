import { Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import type { CoreParts } from '../app'
import type { AuditEntry, AuditQuery, AuditStore } from '../audit/audit-store'
import { PAGED, pageParams, parseCursor, sendPage } from './paging'
import { integerParam, open, parseQueryTime, timeRange, topicIdParam } from './params'

interface AuditQuerystring {
  entity?: string
  action?: string
  from?: string
  to?: string
  limit: number
  cursor?: string
}

const filters = {
  entity: { type: 'string', description: 'topic id' },
  action: { type: 'string', description: 'e.g. operation.request, config.update, alarm.acknowledge' },
  ...timeRange,
}
/** An export holds the whole trail of a range; the list view pages. */
const EXPORT_LIMIT = 1_000_000
/** Entries an export reads from the database at a time, so its memory stays flat however long it is. */
const EXPORT_CHUNK = 1000

const toQuery = (q: AuditQuerystring): AuditQuery => ({
  entity: q.entity === undefined ? undefined : topicIdParam(q.entity),
  action: q.action,
  from: parseQueryTime(q.from, 'from'),
  to: parseQueryTime(q.to, 'to'),
  after: parseCursor(q.cursor, 1)?.[0],
  limit: q.limit + 1,
})

const CSV_COLUMNS = ['id', 'time', 'actor', 'action', 'entity', 'target', 'before', 'after'] as const

/** RFC 4180: quote every field, double the quotes; a leading =+-@ is defused for spreadsheets. */
function csvField(value: unknown): string {
  let text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return `"${text.replaceAll('"', '""')}"`
}

function csvLine(entry: AuditEntry): string {
  const row = { ...entry, time: new Date(entry.time).toISOString() }
  return `${CSV_COLUMNS.map((column) => csvField(row[column])).join(',')}\r\n`
}

/** The newest `limit` entries matching `q`, oldest first, read a chunk at a time. */
function* exportEntries(audit: AuditStore, q: AuditQuery): Generator<AuditEntry> {
  let after = audit.idBeforeNewest(q, q.limit)
  for (;;) {
    let read = 0
    for (const entry of audit.query({ ...q, oldestFirst: true, after, limit: EXPORT_CHUNK })) {
      read++
      after = entry.id
      yield entry
    }
    if (read < EXPORT_CHUNK) return
  }
}

/** An export as text chunks: CSV (RFC 4180 lines) or a JSON array with one entry per line. */
function* exportText(entries: Iterable<AuditEntry>, format: 'csv' | 'json'): Generator<string> {
  if (format === 'csv') {
    yield `${CSV_COLUMNS.join(',')}\r\n`
    for (const entry of entries) yield csvLine(entry)
    return
  }
  let first = true
  for (const entry of entries) {
    yield `${first ? '[\n' : ',\n'}${JSON.stringify(entry)}`
    first = false
  }
  yield first ? '[]\n' : '\n]\n'
}

/** /api/v1: the audit trail of operator actions, listed and exported. */
export function auditRoutes(parts: CoreParts): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: AuditQuerystring }>(
      '/api/v1/audit',
      {
        schema: {
          summary: 'Audit trail of operator actions, newest first',
          description: PAGED,
          tags: ['audit'],
          querystring: {
            type: 'object',
            properties: { ...filters, ...pageParams(200) },
            additionalProperties: false,
          },
          response: { 200: { type: 'array', items: open() } },
        },
      },
      async (request, reply) =>
        sendPage(request, reply, parts.audit.query(toQuery(request.query)), {
          limit: request.query.limit,
          cursor: (entry) => [entry.id],
        }),
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
              format: {
                type: 'string',
                enum: ['csv', 'json'],
                default: 'csv',
                description: 'the file’s format',
              },
              limit: integerParam(1, EXPORT_LIMIT, { default: EXPORT_LIMIT, description: 'entries at most' }),
            },
            additionalProperties: false,
          },
          response: {
            200: {
              description: 'The file (Content-Disposition: attachment)',
              content: {
                'text/csv': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'array', items: open() } },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { format } = request.query
        const query = { ...toQuery(request.query), limit: request.query.limit }
        const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19)
        reply.header('content-disposition', `attachment; filename="edgetwin-audit-${stamp}.${format}"`)
        reply.type(format === 'json' ? 'application/json; charset=utf-8' : 'text/csv; charset=utf-8')
        return reply.send(Readable.from(exportText(exportEntries(parts.audit, query), format)))
      },
    )
  }
}
