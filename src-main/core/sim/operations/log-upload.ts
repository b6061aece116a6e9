import type { LogQuery } from '../device-log'
import { type Operation, OperationFailed, type Payload, requireString } from './command'
import { upload } from './transfer'

/** tedge-agent's default when the request gives no `lines`. */
const DEFAULT_LINES = 1000

function dateField(request: Readonly<Payload>, key: string): number | undefined {
  const value = request[key]
  if (value === undefined) return undefined
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) throw new OperationFailed(`Invalid log_upload request: "${key}" is not an ISO date`)
  return time
}

/**
 * Reference §3.2: the lines of one log type within `dateFrom`..`dateTo` that contain `searchText`,
 * the last `lines` of them, HTTP-PUT to `tedgeUrl`.
 */
export const logUpload: Operation = {
  name: 'log_upload',
  capability: (profile) => (profile.logs.length > 0 ? { types: profile.logs.map((l) => l.type) } : undefined),
  faults: [{ point: 'upload', reason: 'Failed to upload the log file: connection reset by peer' }],
  async run(ctx) {
    const { request, equipment } = ctx
    const type = requireString(request, 'log_upload', 'type')
    if (!equipment.profile.logs.some((l) => l.type === type)) {
      throw new OperationFailed(`The target log file for '${type}' does not exist.`)
    }
    const tedgeUrl = requireString(request, 'log_upload', 'tedgeUrl')
    const query: LogQuery = { from: dateField(request, 'dateFrom'), to: dateField(request, 'dateTo') }
    if (typeof request.searchText === 'string') query.searchText = request.searchText
    const lines = request.lines
    query.lines = typeof lines === 'number' && Number.isInteger(lines) && lines >= 0 ? lines : DEFAULT_LINES

    await ctx.wait(1)
    const matching = equipment.log.query(type, query)
    if (matching.length === 0) {
      throw new OperationFailed(`Failed to initiate log file upload: No logs found for log type "${type}"`)
    }
    ctx.fault('upload')
    await upload(tedgeUrl, `${matching.join('\n')}\n`, ctx.signal)
    ctx.log('INFO', `Log ${type}: ${matching.length} lines uploaded (command ${ctx.cmdId})`)
    return undefined
  },
}
