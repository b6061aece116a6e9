import { describe, expect, it } from 'vitest'
import { LineModel } from '../../../src-main/core/sim/line-model'
import type { AlarmOut, TickOutput } from '../../../src-main/core/sim/line-output'
import { LINE_ALARM_TYPES, LINE_DEVICES, TANK } from '../../../src-main/core/sim/topology'

function run(seed: number, ticks: number): TickOutput[] {
  const model = new LineModel(seed)
  return Array.from({ length: ticks }, () => model.step())
}

function value(out: TickOutput, entity: string, type: string, key: string): number {
  const m = out.measurements.find((x) => x.entity === entity && x.type === type)
  const v = m?.values[key]
  if (typeof v !== 'number') throw new Error(`no ${key} in ${entity} ${type}`)
  return v
}

function alarmsOf(outs: TickOutput[], type: string): Array<AlarmOut & { tick: number }> {
  return outs.flatMap((o) => o.alarms.filter((a) => a.type === type).map((a) => ({ ...a, tick: o.tick })))
}

describe('LineModel', () => {
  it('is a pure function of the seed and the tick index', () => {
    expect(run(42, 2000)).toEqual(run(42, 2000))
    expect(run(42, 50)).not.toEqual(run(43, 50))
  })

  it('publishes only valid thin-edge.io measurements for registered devices with declared units', () => {
    const ids = new Set(LINE_DEVICES.map((d) => d.id))
    for (const out of run(3, 300)) {
      for (const m of out.measurements) {
        expect(ids.has(m.entity)).toBe(true)
        const units = LINE_DEVICES.find((d) => d.id === m.entity)?.units[m.type]
        expect(units, `${m.entity} ${m.type} has units`).toBeDefined()
        for (const [key, v] of Object.entries(m.values)) {
          if (typeof v === 'number') {
            expect(Number.isFinite(v)).toBe(true)
            expect(units).toHaveProperty([key])
          } else {
            // One group level only (reference §2.1), units keyed `group.series` (§2.2).
            for (const [series, sv] of Object.entries(v)) {
              expect(typeof sv).toBe('number')
              expect(units).toHaveProperty([`${key}.${series}`])
            }
          }
        }
      }
    }
  })

  it('keeps the tank between 0 and 100 % and the counters monotonic over three simulated hours', () => {
    for (const seed of [1, 2, 3, 42]) {
      const outs = run(seed, 3 * 3600)
      let previous = { filled: 0, inspected: 0, rejected: 0, capped: 0 }
      const violations: string[] = []
      for (const out of outs) {
        const level = value(out, TANK, 'tank', 'level')
        if (!(level >= 0 && level <= 100)) violations.push(`tick ${out.tick}: level ${level}`)
        const now = {
          filled: value(out, 'device/filler//', 'filling', 'bottles_filled'),
          inspected: value(out, 'device/vision//', 'inspection', 'inspected'),
          rejected: value(out, 'device/vision//', 'inspection', 'rejected'),
          capped: value(out, 'device/capper//', 'capper', 'capped'),
        }
        for (const key of Object.keys(now) as Array<keyof typeof now>) {
          if (now[key] < previous[key]) violations.push(`tick ${out.tick}: ${key} decreased`)
        }
        if (now.rejected > now.inspected) violations.push(`tick ${out.tick}: more rejected than inspected`)
        previous = now
      }
      expect(violations).toEqual([])
      // About 120 bottles/min when running; stops for doors, changeovers and an empty tank cost some of that.
      expect(previous.filled).toBeGreaterThan(3 * 60 * 120 * 0.6)
      expect(previous.filled).toBeLessThan(3 * 60 * 120)
    }
  })

  it('raises the tank-low alarm during a supply outage and clears it once the tank refills (seed 1)', () => {
    const outs = run(1, 600)
    const events = outs.flatMap((o) => o.events.map((e) => ({ ...e, tick: o.tick })))
    const outage = events.find((e) => e.type === 'supply_interrupted')
    const restored = events.find((e) => e.type === 'supply_restored')
    const [raise, clear, ...rest] = alarmsOf(outs, 'level_low')
    expect(outage && raise && clear && restored).toBeTruthy()
    if (!outage || !raise || !clear || !restored) return
    expect(rest).toEqual([])
    expect(raise).toMatchObject({ entity: TANK, severity: 'major' })
    expect(raise.tick).toBeGreaterThan(outage.tick)
    expect(value(outs[raise.tick] as TickOutput, TANK, 'tank', 'level')).toBeLessThan(15)
    expect(clear.severity).toBeNull()
    expect(clear.tick).toBeGreaterThan(restored.tick)
    expect(value(outs[clear.tick] as TickOutput, TANK, 'tank', 'level')).toBeGreaterThan(25)
    // The filler stops rather than run the tank dry, and restarts when it has recovered.
    const stop = events.find((e) => e.type === 'stopped' && e.tick > outage.tick)
    expect(stop?.fragments).toEqual({ reason: 'starved' })
    expect(events.some((e) => e.type === 'started' && e.tick > restored.tick && e.tick < clear.tick)).toBe(
      true,
    )
  })

  it('trips the conveyor on motor over-temperature after a fan failure, then recovers (seed 2)', () => {
    const outs = run(2, 2100)
    const types = outs.flatMap((o) => o.events.map((e) => e.type))
    expect(types).toContain('fan_failure')
    expect(types).toContain('thermal_trip')
    expect(types).toContain('thermal_reset')
    const [raise, clear] = alarmsOf(outs, 'motor_overtemperature')
    expect(raise?.severity).toBe('critical')
    expect(clear?.severity).toBeNull()
    expect(
      value(outs[raise?.tick ?? 0] as TickOutput, 'device/conveyor-drive//', 'drive', 'motor_temperature'),
    ).toBeGreaterThan(90)
  })

  it('never lets an alarm flap: a raised alarm holds for a while before it clears', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const outs = run(seed, 4 * 3600)
      for (const { type } of LINE_ALARM_TYPES) {
        const changes = alarmsOf(outs, type)
        for (let i = 1; i < changes.length; i++) {
          const [before, after] = [changes[i - 1], changes[i]]
          if (before?.severity && after?.severity === null)
            expect(after.tick - before.tick).toBeGreaterThan(10)
        }
      }
    }
  })

  it('runs batches of the product batch size with matching start and end events', () => {
    const events = run(7, 2400).flatMap((o) => o.events)
    const starts = events.filter((e) => e.type === 'batch_start')
    const ends = events.filter((e) => e.type === 'batch_end')
    expect(ends.length).toBeGreaterThanOrEqual(2)
    for (const [i, end] of ends.entries()) {
      const start = starts[i]?.fragments?.batch
      const done = end.fragments?.batch
      if (typeof start !== 'object' || typeof done !== 'object') throw new Error('batch fragments missing')
      expect(done.id).toBe(start.id)
      expect(done.filled).toBe(start.target)
    }
  })

  it('runs at the configured speed and fill volume, and holds while a device restarts', () => {
    const model = new LineModel(1)
    model.configure({ nominalSpeedBpm: 150, fillVolumeMl: 750, capTorqueNm: 3.1 })
    const outs = Array.from({ length: 60 }, () => model.step())
    const last = outs.at(-1) as TickOutput
    expect(value(last, 'device/filler//', 'filling', 'speed')).toBeGreaterThan(140)
    expect(value(last, 'device/capper//', 'capper', 'torque')).toBeCloseTo(3.1, 0)
    // Six valves share 150 bottles/min × 0.75 L.
    const valves = last.measurements.find((m) => m.type === 'valves')?.values.valves
    const total = Object.values(valves ?? {}).reduce((sum, v) => sum + v, 0)
    expect(total).toBeGreaterThan(150 * 0.75 * 0.9)

    model.hold(true)
    const held = Array.from({ length: 10 }, () => model.step())
    expect(held.flatMap((o) => o.events)).toContainEqual(
      expect.objectContaining({ type: 'stopped', fragments: { reason: 'restart' } }),
    )
    expect(value(held.at(-1) as TickOutput, 'device/filler//', 'filling', 'speed')).toBe(0)
    model.hold(false)
    expect(model.step().events).toContainEqual(expect.objectContaining({ type: 'started' }))
  })
})
