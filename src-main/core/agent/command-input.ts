// What a command EdgeTwin's agent runs may carry. Module names, versions, types, file paths and
// URLs from a command reach sm-plugins and workflow scripts as arguments, and the file system as
// names: they are checked here, once, before anything runs. A program that reads a module name
// "-oAPT::Update::Pre-Invoke::=…" as an option, or a version holding a newline as two list lines,
// has lost already; quoting cannot help, as the value is passed verbatim.

/**
 * Names, versions and types: 255 bytes, the longest file name on Linux (NAME_MAX). They become file
 * names (a `file` module, a download, the sm-plugin a type selects), and nothing longer is a name.
 */
export const MAX_NAME_BYTES = 255

/** File paths, and configuration types (which default to the path): Linux's PATH_MAX less its NUL. */
export const MAX_PATH_BYTES = 4095

/** URLs: 8 KiB, the longest request line common HTTP servers accept (nginx, Apache's LimitRequestLine). */
export const MAX_URL_BYTES = 8192

/** Free text matched in-process (log_upload's `searchText`): a search, never a document. */
export const MAX_TEXT_BYTES = 1024

/** C0 and C1 controls (NUL, \t, \n, \r, ESC, DEL…) and the Unicode line and paragraph separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** An operation name as it may appear in a topic: no levels, no wildcards. */
const OPERATION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

type Rule = 'name' | 'path' | 'url' | 'text'

const LIMITS: Record<Rule, number> = {
  name: MAX_NAME_BYTES,
  path: MAX_PATH_BYTES,
  url: MAX_URL_BYTES,
  text: MAX_TEXT_BYTES,
}

/** The string fields each operation's payload may carry, and how each is checked. */
const FIELDS: Record<string, Record<string, Rule>> = {
  config_snapshot: { type: 'path', path: 'path', tedgeUrl: 'url', remoteUrl: 'url' },
  config_update: { type: 'path', path: 'path', tedgeUrl: 'url', remoteUrl: 'url' },
  log_upload: { type: 'name', searchText: 'text', tedgeUrl: 'url' },
  firmware_update: {
    name: 'name',
    version: 'name',
    sha256: 'name',
    url: 'url',
    remoteUrl: 'url',
    tedgeUrl: 'url',
  },
  device_profile: { name: 'name', version: 'name' },
  software_update: {},
}

/**
 * Why a command of `operation` with this payload must not run, or undefined when it may. Only the
 * operations whose fields are known are checked (thin-edge.io's payloads, reference §3.2); a
 * custom operation's payload is its workflow's business.
 */
export function commandInputProblem(operation: string, payload: Record<string, unknown>): string | undefined {
  const problem = operationProblem(operation, payload, '')
  return problem && `Invalid ${operation} command: ${problem}`
}

function operationProblem(
  operation: string,
  payload: Record<string, unknown>,
  prefix: string,
): string | undefined {
  const fields = FIELDS[operation]
  if (!fields) return undefined
  for (const [field, rule] of Object.entries(fields)) {
    const problem = valueProblem(payload[field], rule, `${prefix}${field}`)
    if (problem) return problem
  }
  if (operation === 'software_update') return updateListProblem(payload.updateList, prefix)
  if (operation === 'device_profile') return profileProblem(payload.operations, prefix)
  return undefined
}

function updateListProblem(updateList: unknown, prefix: string): string | undefined {
  if (!Array.isArray(updateList)) return undefined
  for (const [i, entry] of updateList.entries()) {
    if (!isRecord(entry)) continue
    const where = `${prefix}updateList[${i}]`
    const problem = valueProblem(entry.type, 'name', `${where}.type`)
    if (problem) return problem
    if (!Array.isArray(entry.modules)) continue
    for (const [j, module] of entry.modules.entries()) {
      if (!isRecord(module)) continue
      for (const [field, rule] of [
        ['name', 'name'],
        ['version', 'name'],
        ['url', 'url'],
      ] as const) {
        const found = valueProblem(module[field], rule, `${where}.modules[${j}].${field}`)
        if (found) return found
      }
    }
  }
  return undefined
}

/** A device profile's entries run as sub-operations: each is held to its own operation's rules. */
function profileProblem(operations: unknown, prefix: string): string | undefined {
  if (!Array.isArray(operations)) return undefined
  for (const [i, item] of operations.entries()) {
    if (!isRecord(item)) continue
    const where = `${prefix}operations[${i}]`
    const name = item.operation
    if (typeof name === 'string' && !OPERATION_NAME.test(name)) {
      return `${where}.operation ${quote(name)} is not an operation name`
    }
    if (typeof name === 'string' && isRecord(item.payload)) {
      const problem = operationProblem(name, item.payload, `${where}.payload.`)
      if (problem) return problem
    }
  }
  return undefined
}

function valueProblem(value: unknown, rule: Rule, where: string): string | undefined {
  if (typeof value !== 'string') return undefined
  const limit = LIMITS[rule]
  if (Buffer.byteLength(value) > limit) return `${where} is longer than ${limit} bytes`
  if (CONTROL.test(value)) return `${where} ${quote(value)} contains a control character`
  // Read as an option by the program it is passed to, whatever the quoting.
  if (rule !== 'text' && value.startsWith('-')) return `${where} ${quote(value)} starts with "-"`
  if (rule === 'url' && value !== '') return urlProblem(value, where)
  return undefined
}

function urlProblem(value: string, where: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `${where} ${quote(value)} is not a URL`
  }
  // The agent downloads over HTTP(S) only: no file:, data: or other schemes reach fetch or a plugin.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${where} ${quote(value)} is not an http or https URL`
  }
  return undefined
}

/** The value as JSON, shortened: a reason must stay readable whatever was sent. */
function quote(value: string): string {
  const json = JSON.stringify(value)
  return json.length <= 80 ? json : `${json.slice(0, 77)}…"`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
