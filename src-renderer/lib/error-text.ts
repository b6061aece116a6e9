// Every error the UI shows, in words a technician can act on: what happened and what to do. The
// browser's and the parser's own texts ("Failed to fetch", "position 4") name neither.
import { ApiError } from './api'

/** A request that never got an answer: the browsers' texts for a network failure. */
const NO_ANSWER =
  /^(Failed to fetch|fetch failed|Load failed|NetworkError when attempting to fetch resource\.?)$/i
/** A part of the page (a chunk, its styles) that could not be fetched: Chromium, Vite, Firefox, Safari. */
const NO_CHUNK =
  /dynamically imported module|Unable to preload CSS|error loading dynamically|Importing a module script failed/i

export const NOT_ANSWERING =
  'EdgeTwin did not answer: check that it is running and that this device can reach it'

/** The words for an error caught around an API call or a lazily loaded part of the page. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return apiErrorText(error)
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof SyntaxError && /JSON/.test(message))
    return 'EdgeTwin answered with something unreadable: reload the page'
  if (NO_ANSWER.test(message.trim())) return NOT_ANSWERING
  if (NO_CHUNK.test(message))
    return 'Part of the page could not be loaded from EdgeTwin: it may be restarting; try again in a moment'
  if (error instanceof DOMException && error.name === 'AbortError')
    return 'The request was stopped before EdgeTwin answered: try again'
  return message
}

function apiErrorText(error: ApiError): string {
  // The core's own reasons are written for people; only bare status lines need words.
  const bare = /^\d{3}\b/.test(error.message) || error.message === ''
  if (error.status === 401) return 'Your session has ended: log in again'
  if (!bare) return error.message
  if (error.status === 403) return 'EdgeTwin refused this from here: it is not allowed for this session'
  if (error.status === 404)
    return 'EdgeTwin does not know this (any more): it may have been removed; reload the page'
  if (error.status === 413) return 'This is too large for EdgeTwin to accept: make it smaller'
  if (error.status === 429) return 'Too many requests at once: wait a moment and try again'
  if (error.status >= 500)
    return 'EdgeTwin could not do this because of an internal error: try again, and check its log if it keeps failing'
  return `EdgeTwin refused this (${error.message}): check what you entered`
}

/**
 * A JSON.parse error as "Not valid JSON at line L, column C: what is wrong", from the position
 * the engine reports (V8 gives "at position N", sometimes with its own line and column).
 */
export function jsonErrorText(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error)
  const position = /at position (\d+)/.exec(message)
  const reason = (message.split(/ (in JSON )?at position \d+/)[0] ?? message)
    .replace(/^JSON\.parse: /, '')
    .trim()
  const what = reason.replace(/, "[^"]*"(\.\.\.)? is not valid JSON$/, '')
  if (position) {
    const offset = Number(position[1])
    const before = text.slice(0, offset).split('\n')
    const line = before.length
    const column = (before.at(-1)?.length ?? 0) + 1
    return `Not valid JSON at line ${line}, column ${column}: ${lowerFirst(what)}`
  }
  if (/Unexpected end of JSON input/i.test(message))
    return 'Not valid JSON: it ends too early (a closing bracket, brace or quote is missing)'
  return `Not valid JSON: ${lowerFirst(what)}`
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1)
