import { describe, expect, it } from 'vitest'
import { createPrng } from '../../../src-main/core/sim/prng'

function draw(seed: number, n: number): number[] {
  const rng = createPrng(seed)
  return Array.from({ length: n }, () => rng.next())
}

describe('createPrng', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    expect(draw(123, 100)).toEqual(draw(123, 100))
    expect(draw(123, 100)).not.toEqual(draw(124, 100))
  })

  it('stays in [0, 1) and integers stay in their bounds', () => {
    const rng = createPrng(9)
    const floats = Array.from({ length: 10_000 }, () => rng.next())
    const ints = new Set(Array.from({ length: 10_000 }, () => rng.int(3, 5)))
    expect(floats.every((x) => x >= 0 && x < 1)).toBe(true)
    expect([...ints].sort()).toEqual([3, 4, 5])
  })

  it('draws normal noise with roughly the requested spread', () => {
    const rng = createPrng(5)
    const samples = Array.from({ length: 20_000 }, () => rng.gauss(2))
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length)
    expect(Math.abs(mean)).toBeLessThan(0.05)
    expect(sd).toBeGreaterThan(1.9)
    expect(sd).toBeLessThan(2.1)
  })
})
