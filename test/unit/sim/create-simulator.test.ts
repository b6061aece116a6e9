import { describe, expect, it } from 'vitest'
import { createSimulator } from '../../../src-main/core/sim'

describe('createSimulator', () => {
  it('rejects options it cannot run with, before connecting anywhere', () => {
    expect(() => createSimulator({ url: 'http://localhost:1883' })).toThrow(/broker URL/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', devices: -1 })).toThrow(/devices/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', devices: 2.5 })).toThrow(/devices/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', rate: 0 })).toThrow(/rate/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', tickMs: 0 })).toThrow(/tickMs/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', faultRate: 1.5 })).toThrow(/faultRate/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', faultRate: -0.1 })).toThrow(/faultRate/)
    expect(() => createSimulator({ url: 'mqtt://localhost:1883', faultRate: Number.NaN })).toThrow(
      /faultRate/,
    )
  })

  it('only stores its options until started', () => {
    const sim = createSimulator({ url: 'mqtt://localhost:1883', seed: 1 })
    expect(sim.stats.published).toBe(0)
  })
})
