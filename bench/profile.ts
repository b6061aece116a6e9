import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import path from 'node:path'
import { ROOT } from './processes'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileEntry {
  name: string
  /** Where it is: original source (via dist/cli.js.map), a package, or a Node.js internal. */
  where: string
  ms: number
  share: number
}

export interface ProfileSummary {
  file: string
  /** Sampled wall time, ms. */
  totalMs: number
  /** Time the core's thread was busy (not idle), ms. */
  busyMs: number
  /** Self time by area (the core's source folders, packages, GC, native), sorted. */
  areas: ProfileEntry[]
  /** Functions by self time, sorted. */
  functions: ProfileEntry[]
}

const BUNDLE = path.join(ROOT, 'dist', 'cli.js')

/** Maps positions in the esbuild bundle back to src-main files, so functions are named by their source. */
function bundleMap(): SourceMap | undefined {
  const file = `${BUNDLE}.map`
  if (!existsSync(file)) return undefined
  return new SourceMap(JSON.parse(readFileSync(file, 'utf8')))
}

function locate(
  frame: ProfileNode['callFrame'],
  map: SourceMap | undefined,
): { where: string; area: string } {
  const { url, lineNumber, columnNumber, functionName } = frame
  if (!url) {
    // (garbage collector), (idle), (program), or a native function (a better-sqlite3 statement, a syscall).
    if (functionName.startsWith('(')) return { where: functionName, area: functionName }
    return { where: 'native', area: 'native code called from JS (SQLite statements, sockets, JSON)' }
  }
  if (url.startsWith('node:')) return { where: url, area: 'node internals (streams, net, timers)' }
  const file = url.startsWith('file://') ? new URL(url).pathname : url
  if (file === BUNDLE && map) {
    const entry = map.findEntry(lineNumber, columnNumber) as {
      originalSource?: string
      originalLine?: number
    }
    if (entry.originalSource) {
      const source = path.relative(ROOT, new URL(entry.originalSource, `file://${BUNDLE}`).pathname)
      const folder = source.split('/').slice(0, 3).join('/')
      return { where: `${source}:${(entry.originalLine ?? 0) + 1}`, area: folder }
    }
  }
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(file)
  if (match) return { where: `${match[1]}/${match[2]}:${lineNumber + 1}`, area: `package ${match[1]}` }
  return { where: `${path.relative(ROOT, file)}:${lineNumber + 1}`, area: path.relative(ROOT, file) }
}

function ranked(
  table: Map<string, { name: string; where: string; ms: number }>,
  busyMs: number,
): ProfileEntry[] {
  return [...table.values()]
    .sort((a, b) => b.ms - a.ms)
    .map((e) => ({ ...e, share: busyMs > 0 ? e.ms / busyMs : 0 }))
}

/** Self time per function and per area of the newest .cpuprofile in `dir`. */
export function summarizeProfile(dir: string): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir} (did the core exit cleanly?)`)
  const file = path.join(dir, files.sort().at(-1) as string)
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const map = bundleMap()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  // timeDeltas[i] is the time between sample i-1 and sample i; it is spent in sample i's frame.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const functions = new Map<string, { name: string; where: string; ms: number }>()
  const areas = new Map<string, { name: string; where: string; ms: number }>()
  let totalMs = 0
  let idleMs = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (!node) continue
    const ms = us / 1000
    totalMs += ms
    const name = node.callFrame.functionName || '(anonymous)'
    if (name === '(idle)') {
      idleMs += ms
      continue
    }
    const { where, area } = locate(node.callFrame, map)
    const key = `${name} ${where}`
    const f = functions.get(key) ?? { name, where, ms: 0 }
    f.ms += ms
    functions.set(key, f)
    const a = areas.get(area) ?? { name: area, where: '', ms: 0 }
    a.ms += ms
    areas.set(area, a)
  }
  const busyMs = totalMs - idleMs
  return { file, totalMs, busyMs, areas: ranked(areas, busyMs), functions: ranked(functions, busyMs) }
}
