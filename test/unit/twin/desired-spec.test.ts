import { describe, expect, it } from 'vitest'
import { desiredSpecs } from '../../../src-main/core/twin/desired-spec'

describe('the properties a device says it accepts (its desired_update capability)', () => {
  it('reads names with type, range, unit, choices, pattern, factory value and description', () => {
    expect(
      desiredSpecs({
        properties: {
          speed: { type: 'integer', minimum: 30, maximum: 180, unit: 'bottles/min', default: 120 },
          mode: { type: 'string', enum: ['auto', 'manual'], description: 'operating mode' },
          station: { type: 'string', pattern: '^[a-z]+$' },
          anything: {},
        },
      }),
    ).toEqual({
      speed: { type: 'integer', minimum: 30, maximum: 180, unit: 'bottles/min', default: 120 },
      mode: { type: 'string', enum: ['auto', 'manual'], description: 'operating mode' },
      station: { type: 'string', pattern: '^[a-z]+$' },
      anything: {},
    })
  })

  it('is null when the device does not say, as with the plain `{}` of thin-edge.io capabilities', () => {
    for (const payload of [undefined, {}, null, [], 'x', { properties: [] }, { properties: 'speed' }])
      expect(desiredSpecs(payload)).toBeNull()
  })

  it('leaves out what it does not understand rather than trusting it', () => {
    const long = 'x'.repeat(201)
    expect(
      desiredSpecs({
        properties: {
          speed: {
            type: 'decimal',
            minimum: '30',
            maximum: Number.POSITIVE_INFINITY,
            unit: long,
            enum: [{ nested: true }],
            default: { a: 1 },
          },
          notAnObject: 5,
          [long]: {},
        },
      }),
    ).toEqual({ speed: {} })
  })

  it('keeps at most 256 properties of a payload that comes from the bus', () => {
    const properties = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`p${i}`, { type: 'number' }]),
    )
    expect(Object.keys(desiredSpecs({ properties }) ?? {})).toHaveLength(256)
  })
})
