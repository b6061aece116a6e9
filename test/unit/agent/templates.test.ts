// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates are what these tests are about
import { describe, expect, it } from 'vitest'
import type { TemplateContext } from '../../../src-main/core/agent/workflow/model'
import { expandString, expandValue, renderValue } from '../../../src-main/core/agent/workflow/templates'

// The command of thin-edge.io's substitution.rs tests, plus device_profile's `@next`.
const payload = {
  status: 'init',
  foo: 42,
  bar: { extra: [1, 2, 3] },
  nested: [
    {
      matrix: [
        [4, 5, 6],
        [7, 8, 9],
      ],
    },
  ],
  name: 'prod profile',
  empty: null,
  '@next': { index: 0, item: { operation: 'firmware_update', payload: { name: 'fw', version: '2.0' } } },
}
const ctx: TemplateContext = {
  topic: 'te/device/main///cmd/make_it/123',
  root: 'te',
  target: 'device/main//',
  operation: 'make_it',
  cmdId: '123',
  payload,
}

describe('expandString', () => {
  it('renders the topic parts', () => {
    expect(expandString('${.topic}', ctx)).toBe('te/device/main///cmd/make_it/123')
    expect(expandString('${.topic.root_prefix}', ctx)).toBe('te')
    expect(expandString('${.topic.target}', ctx)).toBe('device/main//')
    expect(expandString('${.topic.operation}', ctx)).toBe('make_it')
    expect(expandString('${.topic.cmd_id}', ctx)).toBe('123')
  })

  it('renders `${.}` as the whole message and objects as JSON with sorted keys, like serde_json', () => {
    const whole = expandString('${.}', ctx)
    expect(JSON.parse(whole)).toEqual({ topic: ctx.topic, payload })
    expect(whole.startsWith('{"payload":{"@next":{"index":0,"item":{"operation":"firmware_update"')).toBe(
      true,
    )
    expect(whole.endsWith('"topic":"te/device/main///cmd/make_it/123"}')).toBe(true)
    expect(JSON.parse(expandString('${.payload}', ctx))).toEqual(payload)
    expect(expandString('${.payload.bar}', ctx)).toBe('{"extra":[1,2,3]}')
    expect(expandString('${.payload.bar.extra}', ctx)).toBe('[1,2,3]')
  })

  it('renders strings raw and other scalars as JSON text', () => {
    expect(expandString('${.payload.status}', ctx)).toBe('init')
    expect(expandString('${.payload.name}', ctx)).toBe('prod profile')
    expect(expandString('${.payload.foo}', ctx)).toBe('42')
    expect(expandString('${.payload.empty}', ctx)).toBe('null')
  })

  it('indexes arrays from the start and, with a negative index, from the end', () => {
    expect(expandString('${.payload.bar.extra[1]}', ctx)).toBe('2')
    expect(expandString('${.payload.bar.extra[-1]}', ctx)).toBe('3')
    expect(expandString('${.payload.bar.extra[-3]}', ctx)).toBe('1')
    expect(expandString('${.payload.nested[0].matrix[1]}', ctx)).toBe('[7,8,9]')
    expect(expandString('${.payload.nested[0].matrix[1][2]}', ctx)).toBe('9')
  })

  it('reads keys with `@`', () => {
    expect(expandString('${.payload.@next.item.operation}', ctx)).toBe('firmware_update')
    expect(expandString('${.payload.@next.index}', ctx)).toBe('0')
  })

  it('gives "" for an unknown path below the payload', () => {
    expect(expandString('${.payload.bar.unknown}', ctx)).toBe('')
    expect(expandString('${.payload.bar.extra[3]}', ctx)).toBe('')
    expect(expandString('${.payload.bar.extra[-4]}', ctx)).toBe('')
    expect(expandString('${.payload.bar[extra]}', ctx)).toBe('')
    expect(expandString('${.payload.bar[0]}', ctx)).toBe('')
    expect(expandString('${.payload.bar[}', ctx)).toBe('')
    expect(expandString('${.payload.status.length}', ctx)).toBe('')
  })

  it('leaves unknown roots and ill-formed expressions unchanged', () => {
    expect(expandString('${.unknown_root}', ctx)).toBe('${.unknown_root}')
    expect(expandString('${.topic.unknown}', ctx)).toBe('${.topic.unknown}')
    expect(expandString('${ill-formed}', ctx)).toBe('${ill-formed}')
    expect(expandString('${not-a-valid-pattern', ctx)).toBe('${not-a-valid-pattern')
    expect(expandString('not-a-valid-pattern}', ctx)).toBe('not-a-valid-pattern}')
    expect(expandString('not a pattern', ctx)).toBe('not a pattern')
  })

  it('expands several expressions embedded in text', () => {
    expect(expandString('prefix-${.payload.foo}-separator-${.topic.cmd_id}-suffix', ctx)).toBe(
      'prefix-42-separator-123-suffix',
    )
    expect(expandString('prefix-${.payload.foo}-separator-${invalid-path}', ctx)).toBe(
      'prefix-42-separator-${invalid-path}',
    )
    // device_profile's twin update: braces of the JSON literal around the expressions stay.
    expect(
      expandString(
        '{ "name": "${.payload.name}", "version": "${.payload.@next.item.payload.version}" }',
        ctx,
      ),
    ).toBe('{ "name": "prod profile", "version": "2.0" }')
  })
})

describe('expandValue', () => {
  it('gives the JSON value a whole-string expression names', () => {
    expect(expandValue('${.payload.@next.item.payload}', ctx)).toEqual({ name: 'fw', version: '2.0' })
    expect(expandValue('${.payload.bar.extra}', ctx)).toEqual([1, 2, 3])
    expect(expandValue('${.payload.foo}', ctx)).toBe(42)
    expect(expandValue('${.}', ctx)).toEqual({ topic: ctx.topic, payload })
  })

  it('gives "" below the payload and null for an unknown root', () => {
    expect(expandValue('${.payload.missing}', ctx)).toBe('')
    expect(expandValue('${.unknown}', ctx)).toBeNull()
  })

  it('expands tables and arrays member by member and keeps literals', () => {
    expect(
      expandValue(
        { url: '${.payload.bar}', type: 'mosquitto', n: 3, deep: { list: ['${.topic.cmd_id}', true, null] } },
        ctx,
      ),
    ).toEqual({ url: { extra: [1, 2, 3] }, type: 'mosquitto', n: 3, deep: { list: ['123', true, null] } })
  })

  it('keeps a string with an embedded expression literal, as thin-edge does for input/output values', () => {
    expect(expandValue('http://host/${.payload.foo}', ctx)).toBe('http://host/${.payload.foo}')
  })
})

describe('renderValue', () => {
  it('renders as thin-edge inserts values into command lines', () => {
    expect(renderValue('text')).toBe('text')
    expect(renderValue(true)).toBe('true')
    expect(renderValue(null)).toBe('null')
    expect(renderValue({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}')
  })
})
