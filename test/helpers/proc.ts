import { readFileSync } from 'node:fs'

/** A `kB` field of /proc/<pid>/status, in bytes (Linux). */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Samples a process's resident set every `intervalMs` until stopped; `peak` is the largest seen. */
export function sampleRss(pid: number, intervalMs = 25) {
  let peak = procStatus(pid, 'VmRSS')
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(pid, 'VmRSS'))
    } catch {
      // The process has exited; the test that started it reports why.
    }
  }, intervalMs)
  return {
    get peak() {
      return peak
    },
    stop() {
      clearInterval(timer)
      return peak
    },
  }
}

export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
