import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'

export interface FsyncSummary {
  calls: number
  /** Calls made by the core's main thread (the event loop), which block everything else. */
  mainThreadCalls: number
  mainThreadMs: number
  maxMs: number
  over10ms: number
}

/** strace wrapper for spawnCore: only fsync/fdatasync are stopped on (seccomp-bpf), with durations. */
export function fsyncTracer(dir: string): { wrapper: string[]; file: string } | undefined {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  const file = path.join(dir, 'fsync.strace')
  return { wrapper: ['strace', '--seccomp-bpf', '-f', '-T', '-e', 'trace=fsync,fdatasync', '-o', file], file }
}

/** Reads the strace output of a finished run; `mainPid` is the core's pid (= its main thread id). */
export function summarizeFsync(file: string, mainPid: number, fromTime?: string): FsyncSummary {
  const summary: FsyncSummary = { calls: 0, mainThreadCalls: 0, mainThreadMs: 0, maxMs: 0, over10ms: 0 }
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // e.g. `25284 fsync(20) = 0 <0.009284>`
    const match = /^(\d+)\s+(?:\S+\s+)?f(?:data)?sync\(\d+\)\s+=\s+\S+\s+<([\d.]+)>/.exec(line)
    if (!match || (fromTime && line < fromTime)) continue
    const ms = Number(match[2]) * 1000
    summary.calls++
    summary.maxMs = Math.max(summary.maxMs, ms)
    if (ms > 10) summary.over10ms++
    if (Number(match[1]) === mainPid) {
      summary.mainThreadCalls++
      summary.mainThreadMs += ms
    }
  }
  return summary
}
