import { describe, expect, it } from 'vitest'
import { AGENT_PROFILES, type ConfigFileSpec } from '../../../src-main/core/sim/agent-profiles'
import { ConfigError, DeviceConfig, parseConfig } from '../../../src-main/core/sim/device-config'
import { DEFAULT_LINE_SETTINGS } from '../../../src-main/core/sim/line-settings'

const spec: ConfigFileSpec = {
  type: 'pump.conf',
  path: '/etc/pump.conf',
  content: '# pump\nspeed = 10\nmode = auto\n',
  keys: {
    speed: { kind: 'number', min: 0, max: 20, integer: true, unit: 'rpm' },
    mode: { kind: 'text', pattern: /^(auto|manual)$/, expected: 'auto or manual' },
  },
}

describe('parseConfig', () => {
  it('reads key = value lines, skipping comments and blank lines', () => {
    expect(parseConfig(spec, '# c\n\n  speed=12  \r\nmode =   manual\n')).toEqual({
      speed: 12,
      mode: 'manual',
    })
  })

  it.each([
    ['speed 12', 'line 1: expected "key = value", got "speed 12"'],
    ['\nflow = 3', 'line 2: unknown key "flow"'],
    ['speed = 1\nspeed = 2', 'line 2: duplicate key "speed"'],
    ['speed = fast', 'line 1: speed = fast is not a number'],
    ['speed = ', 'line 1: speed =  is not a number'],
    ['speed = 2.5', 'line 1: speed = 2.5 is not a whole number'],
    ['speed = 21', 'line 1: speed = 21 is out of range (0..20 rpm)'],
    ['mode = off', 'line 1: mode = off is not auto or manual'],
  ])('rejects %j naming the line', (text, problem) => {
    expect(() => parseConfig(spec, text)).toThrow(new ConfigError(`Invalid pump.conf, ${problem}`))
  })

  it('rejects binary and oversized files', () => {
    expect(() => parseConfig(spec, 'speed = 1\0')).toThrow(/not a text file/)
    expect(() => parseConfig(spec, `# ${'x'.repeat(70_000)}`)).toThrow(/larger than 64 KiB/)
  })
})

describe('DeviceConfig', () => {
  it('fills keys an update leaves out with the factory values, and reports what changed', () => {
    const config = new DeviceConfig([spec])
    const values = config.validate('pump.conf', 'mode = manual\n')
    expect(values).toEqual({ speed: 10, mode: 'manual' })
    expect(config.commit('pump.conf', 'mode = manual\n', values)).toEqual([
      { key: 'mode', from: 'auto', to: 'manual' },
    ])
    expect(config.content('pump.conf')).toBe('mode = manual\n')
    expect(config.values('pump.conf')).toEqual(values)
    expect(() => config.validate('other.conf', '')).toThrow(ConfigError)
  })

  it('ships factory files that parse and match the line model defaults', () => {
    for (const profile of AGENT_PROFILES) {
      const config = new DeviceConfig(profile.config)
      for (const file of profile.config) {
        for (const [key, keySpec] of Object.entries(file.keys)) {
          const value = config.values(file.type)[key]
          expect(value, `${file.type} ${key}`).toBeDefined()
          if (keySpec.setting) expect(value).toBe(DEFAULT_LINE_SETTINGS[keySpec.setting])
        }
      }
    }
  })
})
