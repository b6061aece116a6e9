/** A seeded pseudo-random source: the only randomness the simulator uses, so a seed fixes every value. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform in [min, max). */
  between(min: number, max: number): number
  /** Integer uniform in [min, max]. */
  int(min: number, max: number): number
  /** Standard normal sample scaled by `sigma`. */
  gauss(sigma: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
}

/** mulberry32: 32-bit state, fast, and good enough for simulated noise (not for cryptography). */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0
  let spareGauss: number | undefined

  function next(): number {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    chance: (p) => next() < p,
    gauss(sigma) {
      // Marsaglia polar method; the second sample is kept so each pair costs one loop.
      if (spareGauss !== undefined) {
        const spare = spareGauss
        spareGauss = undefined
        return spare * sigma
      }
      let u = 0
      let v = 0
      let s = 0
      do {
        u = next() * 2 - 1
        v = next() * 2 - 1
        s = u * u + v * v
      } while (s >= 1 || s === 0)
      const factor = Math.sqrt((-2 * Math.log(s)) / s)
      spareGauss = v * factor
      return u * factor * sigma
    },
  }
}

/** A seed for when the caller gives none: random per run, still reported so a run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0
}
