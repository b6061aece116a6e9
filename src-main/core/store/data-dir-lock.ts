import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One core per data dir: two writers on one twin would interleave broker sessions and batches.
 * The lock is a file holding the owner's pid; a lock left by a process that is gone (kill -9) is
 * taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'edgetwin.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          unlinkSync(file)
        } catch {
          // already gone
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number(readFileSync(file, 'utf8').trim())
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new Error(`data dir ${dataDir} is in use by another EdgeTwin (pid ${owner})`)
      }
      unlinkSync(file)
    }
  }
  throw new Error(`cannot lock data dir ${dataDir}`)
}
