import type { FastifyInstance } from 'fastify'
import { nestsDeeperThan } from '../telemetry/payload'
import { HttpError } from './params'

/**
 * How deeply objects and arrays may nest in a JSON body. Twin values, payloads and settings are a
 * few levels deep; thousands of levels parse but then overflow the stack of whatever walks them
 * (serialising, validating, storing), so they are refused before anything reads them.
 */
export const MAX_JSON_DEPTH = 64

/**
 * Fastify's own JSON parser (which refuses `__proto__` and `constructor` pollution) behind a depth
 * check, for every JSON body the API accepts.
 */
export function useJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (nestsDeeperThan(text, MAX_JSON_DEPTH))
      return done(new HttpError(400, `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined)
    return parse(request, text, done)
  })
}
