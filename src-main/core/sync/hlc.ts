/**
 * A hybrid logical clock: (physical ms, counter, node). Its timestamps follow causality even when
 * wall clocks drift, and compare as strings: `<ms, 15 digits>-<counter, 5 digits>-<node>`.
 */
export class HybridClock {
  private ms = 0
  private counter = 0

  constructor(
    private readonly node: string,
    private readonly wallClock: () => number = Date.now,
  ) {
    if (node === '') throw new Error('a hybrid clock needs a node name')
  }

  /** A timestamp for a local event. */
  now(): string {
    const wall = Math.floor(this.wallClock())
    if (wall > this.ms) {
      this.ms = wall
      this.counter = 0
    } else this.tick()
    return formatHlc(this.ms, this.counter, this.node)
  }

  /** The counter has 5 digits: past them, the clock borrows the next millisecond. */
  private tick(): void {
    if (this.counter < MAX_COUNTER) this.counter++
    else {
      this.ms++
      this.counter = 0
    }
  }

  /**
   * Takes in a remote timestamp, so later local events sort after it. One more than a minute ahead
   * of the wall clock is ignored: a wrong clock elsewhere must not drag this one into the future.
   */
  observe(remote: string): void {
    const parsed = parseHlc(remote)
    const wall = Math.floor(this.wallClock())
    if (!parsed || parsed.ms > wall + MAX_AHEAD_MS) return
    const ms = Math.max(wall, this.ms, parsed.ms)
    const counter =
      ms === this.ms && ms === parsed.ms
        ? Math.max(this.counter, parsed.counter)
        : ms === this.ms
          ? this.counter
          : ms === parsed.ms
            ? parsed.counter
            : -1
    this.ms = ms
    this.counter = counter
    this.tick()
  }
}

const MAX_COUNTER = 99_999
const MAX_AHEAD_MS = 60_000

export function formatHlc(ms: number, counter: number, node: string): string {
  return `${String(ms).padStart(15, '0')}-${String(counter).padStart(5, '0')}-${node}`
}

const HLC = /^(\d{15})-(\d{5})-(.+)$/

export function parseHlc(text: string): { ms: number; counter: number; node: string } | undefined {
  const match = HLC.exec(text)
  if (!match) return undefined
  return { ms: Number(match[1]), counter: Number(match[2]), node: match[3] as string }
}

export function isHlc(text: unknown): text is string {
  return typeof text === 'string' && HLC.test(text)
}
