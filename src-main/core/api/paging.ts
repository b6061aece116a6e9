import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError, integerParam } from './params'

/**
 * An answer stops adding rows once its JSON would pass this many bytes, so a list of events or
 * alarms carrying large payloads stays as small as a list of plain rows. One row is always sent, so
 * a single row larger than this still gets through (its size is bounded by the MQTT packet limit).
 */
export const PAGE_BYTES = 1024 * 1024

/** The most rows one answer holds, whatever `limit` asks. */
export const MAX_PAGE_ROWS = 10_000

/** How a paged list answers, for the OpenAPI description of its route. */
export const PAGED = `A page: at most \`limit\` rows and about ${PAGE_BYTES / 1024} KiB of JSON. When rows are left, the Link header (rel="next") gives the URL of the next page.`

/** Where a page ends: the sort key of its last row (numbers), written `n_n`. */
export type Cursor = number[]

/** One number of a cursor, as JavaScript writes it (an exponent only for extreme values). */
const NUMBER = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/

/** The `limit` and `cursor` query parameters of a paged list. */
export function pageParams(defaultLimit: number) {
  return {
    limit: integerParam(1, MAX_PAGE_ROWS, {
      default: defaultLimit,
      description: 'rows in this page at most',
    }),
    cursor: {
      type: 'string',
      maxLength: 100,
      description:
        'where the previous page ended; follow the Link header (rel="next") rather than building it',
    },
  } as const
}

/** Reads a `cursor` of `size` numbers; 400 when it is not one a page of this list gave. */
export function parseCursor(raw: string | undefined, size: number): Cursor | undefined {
  if (raw === undefined) return undefined
  const parts = raw.split('_')
  const values = parts.map(Number)
  if (parts.length !== size || !parts.every((part) => NUMBER.test(part)) || !values.every(Number.isFinite))
    throw new HttpError(400, '"cursor" is not a position in this list: take it from the Link header')
  return values
}

export interface PageOptions<T> {
  limit: number
  /** The sort key of a row, which the next page starts after. */
  cursor: (row: T) => Cursor
  /** What a row is answered as. */
  view?: (row: T) => unknown
}

/**
 * Answers a JSON array of `rows` in their order: at most `limit` rows and PAGE_BYTES bytes. When rows
 * are left, a Link header (RFC 8288) gives the next page: the same query with `cursor` set after the
 * last row sent. `rows` is read lazily and only as far as the page goes, so a list can be a query
 * over the whole table.
 */
export function sendPage<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  rows: Iterable<T>,
  options: PageOptions<T>,
): FastifyReply {
  const view = options.view ?? ((row: T) => row)
  const items: string[] = []
  let bytes = 2
  let last: T | undefined
  let more = false
  for (const row of rows) {
    if (items.length >= options.limit) {
      more = true
      break
    }
    const json = JSON.stringify(view(row))
    const size = Buffer.byteLength(json) + (items.length > 0 ? 1 : 0)
    if (items.length > 0 && bytes + size > PAGE_BYTES) {
      more = true
      break
    }
    items.push(json)
    bytes += size
    last = row
  }
  if (more && last !== undefined) {
    reply.header('link', `<${nextUrl(request, options.cursor(last).join('_'))}>; rel="next"`)
  }
  return reply.type('application/json; charset=utf-8').send(`[${items.join(',')}]`)
}

/** The route's path with the request's query and the new cursor (the path as routed, not as sent). */
function nextUrl(request: FastifyRequest, cursor: string): string {
  const query = new URLSearchParams(request.url.split('?')[1] ?? '')
  query.set('cursor', cursor)
  return `${request.routeOptions.url}?${query}`
}
