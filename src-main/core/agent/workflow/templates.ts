// `${…}` path expressions of thin-edge.io workflows (reference §3.4), expanded against a command.
// Rules follow crates/core/tedge_api/src/substitution.rs (`Record`) and workflow/state.rs (`StateExcerpt`).
import type { TemplateContext } from './model'

/**
 * The value a path denotes, or `undefined` when the path is not one thin-edge knows.
 *
 * `substitution.rs::extract_value`: only `.`, `.topic…` and `.payload…` roots exist. An unknown field
 * *below* `.payload` is the empty string, "the payload object represents a free-form value"; any
 * other unknown path (`.unknown`, `.topic.x`, `ill-formed`) has no value.
 */
export function resolvePath(path: string, ctx: TemplateContext): unknown {
  switch (path) {
    case '.':
      return { topic: ctx.topic, payload: ctx.payload }
    case '.topic':
      return ctx.topic
    case '.topic.root_prefix':
      return ctx.root
    case '.topic.target':
      return ctx.target
    case '.topic.operation':
      return ctx.operation
    case '.topic.cmd_id':
      return ctx.cmdId
    case '.payload':
      return ctx.payload
  }
  if (!path.startsWith('.payload.')) return undefined
  const value = jsonExcerpt(ctx.payload, path.slice('.payload.'.length))
  return value === undefined ? '' : value
}

/**
 * Expand every `${…}` of a string: strings are inserted raw, `null`, booleans and numbers as JSON
 * text, objects and arrays as compact JSON. A `${…}` that is not a known path is left unchanged.
 *
 * The scan is thin-edge's `inject_values_into_template`: split after each `}`, and in each piece the
 * text from the first `${` to that `}` is one expression, so an expression never contains `}`.
 */
export function expandString(template: string, ctx: TemplateContext): string {
  let out = ''
  let rest = template
  while (rest.length > 0) {
    const close = rest.indexOf('}')
    const piece = close < 0 ? rest : rest.slice(0, close + 1)
    rest = close < 0 ? '' : rest.slice(close + 1)
    const open = piece.indexOf('${')
    if (open < 0) {
      out += piece
      continue
    }
    const expression = piece.slice(open)
    const path = pathOf(expression)
    const value = path === undefined ? undefined : resolvePath(path, ctx)
    out += piece.slice(0, open) + (value === undefined ? expression : renderValue(value))
  }
  return out
}

/**
 * Expand a TOML `input` / `output` value (`StateExcerpt` in state.rs): a string that *is* one
 * `${path}` becomes the JSON value at that path (`null` when the path is unknown), objects and arrays
 * are expanded member by member, and anything else — including a string with a `${…}` embedded in
 * other text — is a literal, as thin-edge only substitutes whole-string expressions here.
 */
export function expandValue(value: unknown, ctx: TemplateContext): unknown {
  if (typeof value === 'string') {
    const path = pathOf(value)
    if (path === undefined) return value
    return resolvePath(path, ctx) ?? null
  }
  if (Array.isArray(value)) return value.map((item) => expandValue(item, ctx))
  if (isObject(value)) {
    const expanded: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) expanded[key] = expandValue(item, ctx)
    return expanded
  }
  return value
}

/** The path of a `${path}` expression (`extract_path`: strip `${` and the final `}`), else undefined. */
export function pathOf(expression: string): string | undefined {
  if (!expression.startsWith('${') || !expression.endsWith('}')) return undefined
  return expression.slice(2, -1)
}

/**
 * JSON text as thin-edge renders it: serde_json without `preserve_order` keeps object keys sorted,
 * so `${.payload}` and `${.}` are rendered with sorted keys, compact.
 */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value
  return JSON.stringify(sortKeys(value)) ?? 'null'
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (!isObject(value)) return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key])
  return sorted
}

// `json_excerpt`: dot-separated keys; each key may carry `[i]` suffixes, negative from the end.
// An empty key (as in `a..b` or a trailing `.`) selects the current value.
function jsonExcerpt(value: unknown, path: string): unknown {
  if (path === '') return value
  const dot = path.indexOf('.')
  if (dot < 0) return arrayExcerpt(value, path)
  const head = arrayExcerpt(value, path.slice(0, dot))
  return head === undefined ? undefined : jsonExcerpt(head, path.slice(dot + 1))
}

function arrayExcerpt(value: unknown, key: string): unknown {
  if (key === '') return value
  const bracket = key.indexOf('[')
  if (bracket < 0) return field(value, key)
  if (bracket > 0) {
    const head = field(value, key.slice(0, bracket))
    return head === undefined ? undefined : arrayExcerpt(head, key.slice(bracket))
  }
  const close = key.indexOf(']')
  if (close < 0) return undefined
  const index = key.slice(1, close)
  // Rust's `i64::from_str`: an optional sign and digits, nothing else.
  if (!/^[+-]?\d+$/.test(index) || !Array.isArray(value)) return undefined
  const position = Number(index) < 0 ? value.length + Number(index) : Number(index)
  if (position < 0 || position >= value.length) return undefined
  return arrayExcerpt(value[position], key.slice(close + 1))
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
