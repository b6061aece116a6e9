import { describe, expect, it } from 'vitest'
import { formatHlc, HybridClock, isHlc, parseHlc } from '../../../src-main/core/sync/hlc'

/** A wall clock the test sets by hand, epoch ms. */
function manualClock(start = 1_700_000_000_000) {
  const clock = { ms: start, read: () => clock.ms }
  return clock
}

const T = 1_700_000_000_000

describe('HybridClock', () => {
  it('needs a node name', () => {
    expect(() => new HybridClock('')).toThrow(/node name/)
    expect(() => new HybridClock('', () => T)).toThrow(/node name/)
    expect(new HybridClock('e', () => T).now()).toBe(formatHlc(T, 0, 'e'))
  })
})

describe('HybridClock.now', () => {
  it('follows the wall clock while it moves forward', () => {
    const wall = manualClock(T)
    const clock = new HybridClock('edge-a', wall.read)
    expect(clock.now()).toBe(formatHlc(T, 0, 'edge-a'))
    wall.ms = T + 5
    expect(clock.now()).toBe(formatHlc(T + 5, 0, 'edge-a'))
  })

  it('counts up under a frozen wall clock', () => {
    const clock = new HybridClock('edge-a', () => T)
    const stamps = Array.from({ length: 1000 }, () => clock.now())
    expect(parseHlc(stamps[999] as string)).toEqual({ ms: T, counter: 999, node: 'edge-a' })
    for (let i = 1; i < stamps.length; i++)
      expect((stamps[i] as string) > (stamps[i - 1] as string)).toBe(true)
  })

  it('borrows the next millisecond instead of overflowing its 5-digit counter', () => {
    const wall = manualClock(T)
    const clock = new HybridClock('edge-a', wall.read)
    const calls = 250_001
    const stamps = Array.from({ length: calls }, () => clock.now())
    // Checked in one pass, one assertion: 250 000 expect() calls would dominate the test.
    const bad: string[] = []
    for (let i = 0; i < calls; i++) {
      const stamp = stamps[i] as string
      const expected = formatHlc(T + Math.floor(i / 100_000), i % 100_000, 'edge-a')
      if (stamp !== expected || !isHlc(stamp) || (i > 0 && !(stamp > (stamps[i - 1] as string))))
        bad.push(`#${i}: ${stamp}`)
      if (bad.length > 5) break
    }
    expect(bad).toEqual([])
    expect(new Set(stamps).size).toBe(calls)
    expect(parseHlc(stamps[99_999] as string)).toEqual({ ms: T, counter: 99_999, node: 'edge-a' })
    expect(parseHlc(stamps[100_000] as string)).toEqual({ ms: T + 1, counter: 0, node: 'edge-a' })
    expect(parseHlc(stamps[250_000] as string)).toEqual({ ms: T + 2, counter: 50_000, node: 'edge-a' })

    // The wall clock catching up with the borrowed ms does not take the clock back...
    wall.ms = T + 2
    expect(clock.now()).toBe(formatHlc(T + 2, 50_001, 'edge-a'))
    // ...and once it is past it, the clock follows it again.
    wall.ms = T + 3
    expect(clock.now()).toBe(formatHlc(T + 3, 0, 'edge-a'))
  })

  it('stays monotonic when the wall clock steps back, and follows it again once it catches up', () => {
    const wall = manualClock(T)
    const clock = new HybridClock('edge-a', wall.read)
    const before = clock.now()
    wall.ms = T - 60_000 // NTP stepped the clock back a minute
    const after = [clock.now(), clock.now()]
    expect((after[0] as string) > before).toBe(true)
    expect((after[1] as string) > (after[0] as string)).toBe(true)
    expect(parseHlc(after[1] as string)).toEqual({ ms: T, counter: 2, node: 'edge-a' })
    wall.ms = T + 1
    expect(clock.now()).toBe(formatHlc(T + 1, 0, 'edge-a'))
  })

  it('drops fractions of a millisecond', () => {
    const clock = new HybridClock('edge-a', () => T + 0.75)
    expect(parseHlc(clock.now())).toEqual({ ms: T, counter: 0, node: 'edge-a' })
  })
})

describe('HybridClock.observe', () => {
  it('moves past a remote clock that is ahead', () => {
    const clock = new HybridClock('edge-a', () => T)
    clock.now()
    const remote = formatHlc(T + 30_000, 4, 'cloud')
    clock.observe(remote)
    const next = clock.now()
    expect(next > remote).toBe(true)
    expect(parseHlc(next)).toEqual({ ms: T + 30_000, counter: 6, node: 'edge-a' })
  })

  it('keeps its own time when the remote clock is behind', () => {
    const wall = manualClock(T)
    const clock = new HybridClock('edge-a', wall.read)
    clock.now()
    clock.observe(formatHlc(T - 30_000, 7, 'cloud'))
    // The remote counter does not leak in: same ms as before, the local counter moved by one.
    expect(parseHlc(clock.now())).toEqual({ ms: T, counter: 2, node: 'edge-a' })
    wall.ms = T + 1
    expect(clock.now()).toBe(formatHlc(T + 1, 0, 'edge-a'))
  })

  it('takes the larger counter when both clocks are at the same ms', () => {
    const clock = new HybridClock('edge-a', () => T)
    clock.now() // counter 0
    const remote = formatHlc(T, 9, 'cloud')
    clock.observe(remote)
    const next = clock.now()
    expect(next > remote).toBe(true)
    expect(parseHlc(next)).toEqual({ ms: T, counter: 11, node: 'edge-a' })
  })

  it('restarts the counter when the wall clock is ahead of both', () => {
    const clock = new HybridClock('edge-a', () => T + 1000)
    clock.observe(formatHlc(T, 42, 'cloud'))
    expect(clock.now()).toBe(formatHlc(T + 1000, 1, 'edge-a'))
  })

  it('ignores what is not a timestamp', () => {
    const clock = new HybridClock('edge-a', () => T)
    clock.observe('tomorrow')
    clock.observe(`${T}-0-cloud`)
    clock.observe('')
    clock.observe(formatHlc(T + 1000, 0, ''))
    expect(clock.now()).toBe(formatHlc(T, 0, 'edge-a'))
  })

  it('ignores a remote clock more than a minute ahead of the wall clock', () => {
    const clock = new HybridClock('edge-a', () => T)
    expect(clock.now()).toBe(formatHlc(T, 0, 'edge-a'))
    clock.observe(formatHlc(T + 60_001, 0, 'cloud'))
    clock.observe(formatHlc(T + 3_600_000, 5, 'cloud'))
    clock.observe(formatHlc(999_999_999_999_999, 99_999, 'cloud'))
    // Not even a tick: the clock is where it was.
    expect(clock.now()).toBe(formatHlc(T, 1, 'edge-a'))
  })

  it('takes a remote clock exactly a minute ahead', () => {
    const clock = new HybridClock('edge-a', () => T)
    const remote = formatHlc(T + 60_000, 3, 'cloud')
    clock.observe(remote)
    const next = clock.now()
    expect(next > remote).toBe(true)
    expect(parseHlc(next)).toEqual({ ms: T + 60_000, counter: 5, node: 'edge-a' })
  })

  it('measures "ahead" from the wall clock, not from its own (possibly borrowed) time', () => {
    const wall = manualClock(T)
    const clock = new HybridClock('edge-a', wall.read)
    clock.observe(formatHlc(T + 50_000, 0, 'cloud'))
    // 20 s ahead of the clock, but 70 s ahead of the wall: ignored.
    clock.observe(formatHlc(T + 70_000, 0, 'cloud'))
    expect(clock.now()).toBe(formatHlc(T + 50_000, 2, 'edge-a'))
    // The same remote time, once the wall clock has moved on, is taken.
    wall.ms = T + 20_000
    clock.observe(formatHlc(T + 70_000, 0, 'cloud'))
    expect(clock.now()).toBe(formatHlc(T + 70_000, 2, 'edge-a'))
  })

  it('borrows the next millisecond when a remote counter is at its maximum', () => {
    const clock = new HybridClock('edge-a', () => T)
    clock.now()
    const remote = formatHlc(T, 99_999, 'cloud')
    clock.observe(remote)
    const next = clock.now()
    expect(isHlc(next)).toBe(true)
    expect(next > remote).toBe(true)
    expect(parseHlc(next)).toEqual({ ms: T + 1, counter: 1, node: 'edge-a' })
  })

  it('orders a reply after the request that caused it, across two clocks less than a minute apart', () => {
    const edge = new HybridClock('edge', () => T)
    const cloud = new HybridClock('cloud', () => T - 50_000) // 50 s slow
    const request = edge.now()
    cloud.observe(request)
    const reply = cloud.now()
    edge.observe(reply)
    const next = edge.now()
    expect([next, reply, request].sort()).toEqual([request, reply, next])
  })

  it('does not order a reply after its request when the replying clock is more than a minute slow', () => {
    // The price of ignoring far-future timestamps: a clock cannot tell "the other clock is wrong"
    // from "I am slow", so a node whose wall clock lags more than a minute keeps its own time.
    const edge = new HybridClock('edge', () => T)
    const cloud = new HybridClock('cloud', () => T - 120_000) // two minutes slow
    const request = edge.now()
    cloud.observe(request)
    const reply = cloud.now()
    expect(reply).toBe(formatHlc(T - 120_000, 0, 'cloud'))
    expect(reply < request).toBe(true)
    // The fast side still moves past what it hears.
    edge.observe(reply)
    expect(edge.now() > request).toBe(true)
  })
})

describe('HLC strings', () => {
  it('round-trip through format and parse', () => {
    const text = formatHlc(T, 12, 'edge-a/b')
    expect(text).toBe('001700000000000-00012-edge-a/b')
    expect(parseHlc(text)).toEqual({ ms: T, counter: 12, node: 'edge-a/b' })
    expect(isHlc(text)).toBe(true)
  })

  it.each([
    ['too few ms digits', '1700000000000-00000-a'],
    ['too few counter digits', '001700000000000-0-a'],
    ['no node', '001700000000000-00000-'],
    ['a number', 1_700_000_000_000],
    ['nothing', undefined],
  ])('rejects %s', (_, value) => {
    expect(isHlc(value)).toBe(false)
    if (typeof value === 'string') expect(parseHlc(value)).toBeUndefined()
  })

  it('compare as strings in (ms, counter, node) order', () => {
    const tuples: Array<[number, number, string]> = []
    for (const ms of [0, 9, 10, 99_999, T - 1, T, T + 1, 10 ** 14])
      for (const counter of [0, 1, 9, 10, 99, 100, 99_999])
        for (const node of ['a', 'a-b', 'b', 'edge-1', 'edge-10', 'edge-2', 'Z'])
          tuples.push([ms, counter, node])
    const byTuple = [...tuples].sort(
      ([m1, c1, n1], [m2, c2, n2]) => m1 - m2 || c1 - c2 || (n1 < n2 ? -1 : n1 > n2 ? 1 : 0),
    )
    const byString = tuples.map(([ms, counter, node]) => formatHlc(ms, counter, node)).sort()
    expect(byString).toEqual(byTuple.map(([ms, counter, node]) => formatHlc(ms, counter, node)))
  })
})
