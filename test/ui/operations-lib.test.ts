import { describe, expect, it } from 'vitest'
import { formatDuration } from '../../src-renderer/lib/format'
import {
  capabilityTypes,
  matches,
  orderOperations,
  parsePayload,
  statusTone,
  updateList,
  upsert,
} from '../../src-renderer/lib/operations'
import { diffRows } from '../../src-renderer/lib/text-diff'
import { NOW, operation } from './operation-fixture'

describe('operation helpers', () => {
  it('orders the known operations first and reads capability types', () => {
    expect(orderOperations(['zeta', 'log_upload', 'device_profile', 'restart'])).toEqual([
      'restart',
      'log_upload',
      'device_profile',
      'zeta',
    ])
    const capabilities = {
      config_snapshot: { types: ['a', 'b'] },
      config_update: { types: ['b', 'c', 3] },
      x: {},
    }
    expect(capabilityTypes(capabilities, 'config_snapshot', 'config_update', 'x', 'missing')).toEqual([
      'a',
      'b',
      'c',
    ])
  })

  it('says whether a status ends a command', () => {
    expect(['successful', 'failed', 'init', 'executing', 'restarting'].map(statusTone)).toEqual([
      'ok',
      'failed',
      'running',
      'running',
      'running',
    ])
  })

  it('groups a software update by type and leaves out empty versions and URLs', () => {
    expect(
      updateList([
        { type: 'apt', name: 'nano', version: '', action: 'remove' },
        {
          type: 'container',
          name: 'vision',
          version: '2.0',
          url: 'https://r.example/v.tar',
          action: 'install',
        },
        { type: 'apt', name: 'curl', version: '8.5', action: 'install' },
      ]),
    ).toEqual([
      {
        type: 'apt',
        modules: [
          { name: 'nano', action: 'remove' },
          { name: 'curl', version: '8.5', action: 'install' },
        ],
      },
      {
        type: 'container',
        modules: [{ name: 'vision', version: '2.0', url: 'https://r.example/v.tar', action: 'install' }],
      },
    ])
  })

  it('accepts a JSON object without status as a payload', () => {
    expect(parsePayload('')).toEqual({ payload: {} })
    expect(parsePayload(' {"a": 1} ')).toEqual({ payload: { a: 1 } })
    expect(parsePayload('{"a":')).toHaveProperty('error', expect.stringMatching(/^Not valid JSON/))
    expect(parsePayload('"text"')).toHaveProperty('error', expect.stringMatching(/JSON object/))
    expect(parsePayload('null')).toHaveProperty('error', expect.stringMatching(/JSON object/))
    expect(parsePayload('{"status": "init"}')).toHaveProperty('error', expect.stringMatching(/status/))
  })

  it('matches stream changes against list filters and keeps the newest copy', () => {
    const running = operation({ id: 5, status: 'executing', createdAt: NOW })
    expect(matches(running, { status: 'active' })).toBe(true)
    expect(matches({ ...running, status: 'failed', terminal: true }, { status: 'active' })).toBe(false)
    expect(matches(running, { status: ['failed', 'successful'] })).toBe(false)
    expect(matches(running, { entity: 'device/tank//' })).toBe(false)
    expect(matches(running, { operation: 'restart', from: NOW, to: NOW })).toBe(true)
    expect(matches(running, { from: NOW + 1 })).toBe(false)

    const older = operation({ id: 4, createdAt: NOW - 1000 })
    const list = upsert([older], running)
    expect(list.map((o) => o.id)).toEqual([5, 4])
    const stale = { ...running, status: 'init', updatedAt: running.updatedAt - 1 }
    expect(upsert(list, stale)).toBe(list)
    const done = { ...running, status: 'successful', updatedAt: running.updatedAt + 1 }
    expect(upsert(list, done)[0]).toBe(done)
  })

  it('folds long unchanged stretches of a diff but keeps context around changes', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`)
    const changed = lines.map((line) => (line === 'line 10' ? 'line ten' : line))
    const rows = diffRows(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`)
    expect(rows).toEqual([
      { kind: 'folded', count: 6 },
      { kind: 'same', text: 'line 7' },
      { kind: 'same', text: 'line 8' },
      { kind: 'same', text: 'line 9' },
      { kind: 'removed', text: 'line 10' },
      { kind: 'added', text: 'line ten' },
      { kind: 'same', text: 'line 11' },
      { kind: 'same', text: 'line 12' },
      { kind: 'same', text: 'line 13' },
      { kind: 'folded', count: 7 },
    ])
    expect(diffRows('a\n', 'a\n')).toEqual([{ kind: 'same', text: 'a' }])
  })

  it('formats durations as precisely as useful', () => {
    expect([850, 12_000, 184_000, 7_500_000, 7_200_000].map(formatDuration)).toEqual([
      '850 ms',
      '12 s',
      '3 min 4 s',
      '2 h 5 min',
      '2 h',
    ])
  })
})
