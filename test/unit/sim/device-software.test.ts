import { describe, expect, it } from 'vitest'
import type { SoftwareTypeSpec } from '../../../src-main/core/sim/agent-profiles'
import {
  parseUpdateList,
  SoftwareInventory,
  UpdateListError,
} from '../../../src-main/core/sim/device-software'

const APT: SoftwareTypeSpec = {
  type: 'apt',
  installed: [
    { name: 'nginx', version: '1.22' },
    { name: 'curl', version: '7.88' },
  ],
  catalogue: { nginx: ['1.22', '1.24'], curl: ['7.88'], htop: ['3.2'] },
  unknownPackage: 'E: Unable to locate package {name}',
  unknownVersion: "E: Version '{version}' for '{name}' was not found",
}

describe('SoftwareInventory', () => {
  it('lists modules per type, sorted by name', () => {
    expect(new SoftwareInventory([APT]).list()).toEqual([
      {
        type: 'apt',
        modules: [
          { name: 'curl', version: '7.88' },
          { name: 'nginx', version: '1.22' },
        ],
      },
    ])
  })

  it('applies goal semantics: install at a version (latest by default), remove if present', () => {
    const inventory = new SoftwareInventory([APT])
    expect(inventory.apply('apt', { name: 'htop', action: 'install' })).toBeUndefined()
    expect(inventory.apply('apt', { name: 'nginx', version: '1.24', action: 'install' })).toBeUndefined()
    expect(inventory.apply('apt', { name: 'nginx', version: '1.24', action: 'install' })).toBeUndefined()
    expect(inventory.apply('apt', { name: 'curl', action: 'remove' })).toBeUndefined()
    expect(inventory.apply('apt', { name: 'curl', action: 'remove' })).toBeUndefined()
    expect(
      inventory.apply('apt', { name: 'tool', version: '2', url: 'http://x/tool.deb', action: 'install' }),
    ).toBe(undefined)
    expect(inventory.list()[0]?.modules).toEqual([
      { name: 'htop', version: '3.2' },
      { name: 'nginx', version: '1.24' },
      { name: 'tool', version: '2' },
    ])
  })

  it('fails packages and versions the source does not have, and unknown types', () => {
    const inventory = new SoftwareInventory([APT])
    expect(inventory.apply('apt', { name: 'nope', action: 'install' })).toBe(
      'E: Unable to locate package nope',
    )
    expect(inventory.apply('apt', { name: 'nginx', version: '9', action: 'install' })).toBe(
      "E: Version '9' for 'nginx' was not found",
    )
    expect(inventory.apply('snap', { name: 'x', action: 'install' })).toBe('Unknown software type: "snap"')
    expect(inventory.list()[0]?.modules).toHaveLength(2)
  })
})

describe('parseUpdateList', () => {
  it('keeps the modules as requested, extra fields included', () => {
    const list = [{ type: 'apt', modules: [{ name: 'a', action: 'install', extra: 1 }] }]
    expect(parseUpdateList(list)).toEqual(list)
  })

  it.each([
    [undefined, '"updateList" must be an array'],
    [[{ type: 'apt' }], 'updateList[0] must be {"type": string, "modules": [...]}'],
    [[{ type: 'apt', modules: [{ action: 'install' }] }], 'updateList[0].modules[0] needs a "name"'],
    [[{ type: 'apt', modules: [{ name: 'a', action: 'upgrade' }] }], 'action must be "install" or "remove"'],
    [[{ type: 'apt', modules: [{ name: 'a', action: 'remove', version: 2 }] }], 'version must be a string'],
  ])('rejects %j', (value, problem) => {
    expect(() => parseUpdateList(value)).toThrow(UpdateListError)
    expect(() => parseUpdateList(value)).toThrow(problem)
  })
})
