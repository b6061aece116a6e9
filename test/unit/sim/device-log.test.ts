import { describe, expect, it } from 'vitest'
import { DeviceLog } from '../../../src-main/core/sim/device-log'

const T0 = Date.parse('2026-03-01T08:00:00.000Z')

function sample(): DeviceLog {
  const log = new DeviceLog()
  log.add('filler', 'INFO', 'Boot complete', T0)
  log.add('plc', 'INFO', 'Scan cycle OK', T0 + 1000)
  log.add('filler', 'WARN', 'Alarm door_open (warning): guard door open', T0 + 2000)
  log.add('filler', 'INFO', 'Batch L3-00001 started', T0 + 3000)
  log.add('filler', 'ERROR', 'restart r1 failed: interlock', T0 + 4000)
  return log
}

describe('DeviceLog', () => {
  it('formats lines with an ISO time and level, per log type', () => {
    expect(sample().query('plc')).toEqual(['2026-03-01T08:00:01.000Z INFO  Scan cycle OK'])
    expect(sample().query('filler')).toHaveLength(4)
    expect(sample().query('kernel')).toEqual([])
  })

  it('filters by time range (inclusive), substring and the last n lines', () => {
    const log = sample()
    expect(log.query('filler', { from: T0 + 2000, to: T0 + 3000 }).map((l) => l.slice(25))).toEqual([
      'WARN  Alarm door_open (warning): guard door open',
      'INFO  Batch L3-00001 started',
    ])
    expect(log.query('filler', { searchText: 'ERROR' })).toEqual([
      '2026-03-01T08:00:04.000Z ERROR restart r1 failed: interlock',
    ])
    expect(log.query('filler', { lines: 2 }).map((l) => l.slice(31))).toEqual([
      'Batch L3-00001 started',
      'restart r1 failed: interlock',
    ])
    expect(log.query('filler', { lines: 0 })).toEqual([])
  })

  it('keeps only the newest lines up to its capacity', () => {
    const log = new DeviceLog(10)
    for (let i = 0; i < 25; i++) log.add('x', 'INFO', `line ${i}`, T0 + i)
    expect(log.size).toBe(10)
    const lines = log.query('x')
    expect(lines).toHaveLength(10)
    expect(lines[0]).toContain('line 15')
    expect(lines.at(-1)).toContain('line 24')
  })
})
