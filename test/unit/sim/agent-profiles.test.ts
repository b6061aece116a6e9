import { describe, expect, it } from 'vitest'
import { AGENT_PROFILES } from '../../../src-main/core/sim/agent-profiles'
import { OPERATIONS } from '../../../src-main/core/sim/operations'
import { LINE_DEVICES } from '../../../src-main/core/sim/topology'

describe('AGENT_PROFILES', () => {
  it('describes existing child devices, each once, with unique types', () => {
    const children = new Set(LINE_DEVICES.filter((d) => d.parent).map((d) => d.id))
    const devices = AGENT_PROFILES.map((p) => p.device)
    expect(new Set(devices).size).toBe(devices.length)
    for (const profile of AGENT_PROFILES) {
      expect(children.has(profile.device), profile.device).toBe(true)
      for (const types of [profile.config, profile.logs, profile.software].map((list) =>
        list.map((x) => x.type),
      )) {
        expect(new Set(types).size).toBe(types.length)
      }
      for (const s of profile.software) {
        for (const m of s.installed) expect(s.catalogue[m.name], `${s.type} ${m.name}`).toContain(m.version)
      }
    }
  })

  it('gives every operation at least one realistic fault, and capabilities per the reference payloads', () => {
    for (const op of OPERATIONS) expect(op.faults.length, op.name).toBeGreaterThan(0)
    const filler = AGENT_PROFILES.find((p) => p.device === 'device/filler//')
    if (!filler) throw new Error('no filler profile')
    const capabilities = Object.fromEntries(OPERATIONS.map((op) => [op.name, op.capability(filler)]))
    expect(capabilities).toEqual({
      restart: {},
      firmware_update: {},
      software_list: { types: ['codesys'] },
      software_update: { types: ['codesys'] },
      config_snapshot: { types: ['filler.conf', 'plc-network.conf'] },
      config_update: { types: ['filler.conf', 'plc-network.conf'] },
      log_upload: { types: ['filler', 'plc'] },
      // EdgeTwin's own operation: the properties the filler takes, as its configuration file bounds them.
      desired_update: {
        properties: {
          nominal_speed_bpm: {
            type: 'integer',
            minimum: 30,
            maximum: 180,
            unit: 'bottles/min',
            default: 120,
          },
          fill_volume_ml: { type: 'number', minimum: 100, maximum: 2000, unit: 'mL', default: 500 },
        },
      },
    })
  })
})
