import { removeDir, spawnCore, tempDir } from './processes'

export interface ReadyTiming {
  median: number
  max: number
  runs: number[]
  /** Exit codes after SIGTERM that were not 0 (a clean stop exits 0, DESIGN §3.1). */
  badExits: number[]
}

/** (g) Spawn of `edgetwin serve` until its ready file appears, `runs` times; median. */
export async function timeToReady(
  dataDir: () => string,
  runs: number,
  discard = false,
): Promise<ReadyTiming> {
  const times: number[] = []
  const badExits: number[] = []
  for (let i = 0; i < runs; i++) {
    const dir = dataDir()
    const core = await spawnCore(dir)
    times.push(core.readyMs)
    const code = await core.stop()
    if (code !== 0) badExits.push(code ?? -1)
    if (discard) removeDir(dir)
  }
  const sorted = [...times].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)] as number,
    max: sorted[sorted.length - 1] as number,
    runs: times,
    badExits,
  }
}

export const freshDir = () => tempDir('fresh')
