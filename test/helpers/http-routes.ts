export interface Route {
  method: string
  /** A concrete path: the route's template with sample parameters. */
  path: string
  /** As declared: public routes answer without a credential. */
  template: string
}

/** Routes the OpenAPI document leaves out: the WebSocket, thin-edge.io's API, the login link, the reference. */
export const UNDOCUMENTED: Array<[method: string, path: string]> = [
  ['GET', '/api/v1/stream'],
  ['GET', '/api/v1/openapi.json'],
  ['GET', '/api/v1/docs'],
  ['GET', '/api/v1/docs/json'],
  ['GET', '/login'],
  ['GET', '/te/v1/entities'],
  ['POST', '/te/v1/entities'],
  ['GET', '/te/v1/entities/device/main//'],
  ['PATCH', '/te/v1/entities/device/main//'],
  ['DELETE', '/te/v1/entities/device/child9//'],
  ['GET', '/te/v1/entities/device/main///twin'],
  ['PUT', '/te/v1/entities/device/main///twin/key'],
  ['DELETE', '/te/v1/entities/device/main///twin/key'],
  ['GET', '/te/v1/entities/device/main///config'],
  ['GET', '/te/v1/files/probe/file.txt'],
  ['PUT', '/te/v1/files/probe/file.txt'],
  ['DELETE', '/te/v1/files/probe/file.txt'],
  ['GET', '/tedge/file-transfer/probe/file.txt'],
  ['PUT', '/tedge/file-transfer/probe/file.txt'],
  ['DELETE', '/tedge/file-transfer/probe/file.txt'],
]

/** Declared public: served without a credential to anyone (the rest needs one). */
export const PUBLIC = new Set([
  'GET /api/v1/health',
  'GET /api/v1/openapi.json',
  'GET /api/v1/docs',
  'GET /api/v1/docs/json',
  'POST /api/v1/session',
  'DELETE /api/v1/session',
  'GET /login',
])

export const isThinEdge = (path: string) => /^\/(te|tedge)\//.test(path)

/** A sample value for each path parameter: an entity's topic id as one segment, or a row id. */
function fill(template: string): string {
  return template
    .replace(/^\/api\/v1\/entities\/\{id\}/, `/api/v1/entities/${encodeURIComponent('device/main//')}`)
    .replace('{type}', 'tedge-configuration-plugin')
    .replace('{id}', '1')
}

/** Every route of the OpenAPI document of the core at `base`, plus the undocumented ones. */
export async function routeList(base: string): Promise<Route[]> {
  const doc = (await (await fetch(new URL('/api/v1/openapi.json', base))).json()) as {
    paths: Record<string, Record<string, unknown>>
  }
  const routes: Route[] = []
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods))
      routes.push({ method: method.toUpperCase(), path: fill(template), template })
  }
  for (const [method, path] of UNDOCUMENTED) routes.push({ method, path, template: path })
  return routes
}

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`

/**
 * Other spellings of `path` that a lenient router or a browser might take for the same resource:
 * each letter percent-encoded (lower- and upper-case hex), whole segments encoded, `//`, `/./`,
 * `/x/../`, encoded dot segments, an encoded slash, `;` parameters, a backslash, a trailing slash,
 * and upper-case segments. The query string, if any, is kept.
 */
export function pathVariants(pathWithQuery: string): string[] {
  const [path = '', query] = pathWithQuery.split('?')
  const tail = query === undefined ? '' : `?${query}`
  const segments = path.split('/').slice(1)
  const join = (parts: string[]) => `/${parts.join('/')}`
  const variants = new Set<string>()
  segments.forEach((segment, i) => {
    const at = (replacement: string) => join([...segments.slice(0, i), replacement, ...segments.slice(i + 1)])
    for (let j = 0; j < segment.length; j++) {
      const c = segment[j] as string
      if (!/[a-z]/i.test(c)) continue
      variants.add(at(segment.slice(0, j) + hex(c) + segment.slice(j + 1)))
      variants.add(at(segment.slice(0, j) + hex(c).toUpperCase() + segment.slice(j + 1)))
    }
    if (/[a-z]/i.test(segment)) {
      variants.add(at([...segment].map((c) => (/[a-z]/i.test(c) ? hex(c) : c)).join('')))
      variants.add(at(segment.toUpperCase()))
      variants.add(at(segment.charAt(0).toUpperCase() + segment.slice(1)))
      variants.add(at(`${segment};x=1`))
    }
    const before = segments.slice(0, i)
    const after = segments.slice(i)
    for (const insert of ['', '.', 'x/..', '%2e', '%2E', 'x/%2e%2e', 'x/%2E%2E', '.%2e/x', 'x/.%2e'])
      variants.add(join([...before, ...insert.split('/'), ...after]))
    if (i > 0) {
      variants.add(`${join(before)}%2F${after.join('/')}`)
      variants.add(`${join(before)}%2f${after.join('/')}`)
      variants.add(`${join(before)}\\${after.join('/')}`)
    }
  })
  variants.add(`${path}/`)
  variants.add(`${path}//`)
  variants.add(`${path}/.`)
  variants.add(`/.${path}`)
  variants.add(`//${path.slice(1)}`)
  variants.delete(path)
  return [...variants].map((variant) => variant + tail)
}
