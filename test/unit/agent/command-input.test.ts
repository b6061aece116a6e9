import { describe, expect, it } from 'vitest'
import { commandInputProblem } from '../../../src-main/core/agent/command-input'

const install = (module: Record<string, unknown>, type = 'apt') => ({
  status: 'init',
  updateList: [{ type, modules: [{ action: 'install', ...module }] }],
})

describe('what a command may carry', () => {
  it('accepts ordinary names, versions, types, paths and URLs', () => {
    expect(
      commandInputProblem(
        'software_update',
        install({ name: 'libfoo2', version: '1:2.0~rc1-3+deb12u1', url: 'https://repo.example/foo.deb' }),
      ),
    ).toBeUndefined()
    expect(
      commandInputProblem('config_update', {
        type: '/etc/line/filler.conf',
        tedgeUrl: 'http://127.0.0.1:8000/te/v1/files/main/config_update/c1',
      }),
    ).toBeUndefined()
    expect(
      commandInputProblem('log_upload', { type: 'edgetwin', searchText: '-- ERROR --', lines: 10 }),
    ).toBeUndefined()
    expect(
      commandInputProblem('firmware_update', {
        name: 'core-image',
        version: '2.0.0',
        remoteUrl: 'http://x/i',
      }),
    ).toBeUndefined()
    // A custom operation's payload belongs to its workflow.
    expect(commandInputProblem('my_operation', { name: '-anything\n' })).toBeUndefined()
  })

  it('refuses module names and versions that read as options', () => {
    expect(
      commandInputProblem('software_update', install({ name: '-oAPT::Update::Pre-Invoke::=touch /tmp/x' })),
    ).toBe(
      'Invalid software_update command: updateList[0].modules[0].name "-oAPT::Update::Pre-Invoke::=touch /tmp/x" starts with "-"',
    )
    expect(
      commandInputProblem('software_update', install({ name: 'foo', version: '--allow-unauthenticated' })),
    ).toBe(
      'Invalid software_update command: updateList[0].modules[0].version "--allow-unauthenticated" starts with "-"',
    )
    expect(commandInputProblem('software_update', install({ name: 'foo' }, '-x'))).toContain(
      'updateList[0].type "-x" starts with "-"',
    )
  })

  it('refuses control characters, newlines and tabs included', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\tb', 'a\u0000b', 'a\u001bb', 'a\u007fb', 'a\u0085b', 'a\u2028b']) {
      expect(commandInputProblem('software_update', install({ name: 'ok', version: bad }))).toMatch(
        /version ".*" contains a control character$/s,
      )
    }
    expect(commandInputProblem('log_upload', { type: 'edgetwin', searchText: 'x\ny' })).toContain(
      'searchText "x\\ny" contains a control character',
    )
  })

  it('refuses values longer than their limit, without quoting them whole', () => {
    const reason = commandInputProblem('software_update', install({ name: 'a'.repeat(256) }))
    expect(reason).toBe(
      'Invalid software_update command: updateList[0].modules[0].name is longer than 255 bytes',
    )
    expect(commandInputProblem('software_update', install({ name: 'a'.repeat(255) }))).toBeUndefined()
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    expect(commandInputProblem('firmware_update', { name: 'é'.repeat(128) })).toContain(
      'longer than 255 bytes',
    )
    expect(commandInputProblem('config_snapshot', { type: 'x', path: `/${'p'.repeat(4095)}` })).toContain(
      'path is longer than 4095 bytes',
    )
    expect(commandInputProblem('firmware_update', { remoteUrl: `http://x/${'u'.repeat(8192)}` })).toContain(
      'remoteUrl is longer than 8192 bytes',
    )
    const quoted = commandInputProblem('firmware_update', { name: `-${'x'.repeat(200)}` }) as string
    expect(quoted.length).toBeLessThan(160)
  })

  it('takes only http and https URLs', () => {
    expect(
      commandInputProblem('software_update', install({ name: 'f', url: 'file:///etc/shadow' })),
    ).toContain('url "file:///etc/shadow" is not an http or https URL')
    expect(commandInputProblem('config_update', { type: 'x', remoteUrl: 'not a url' })).toContain(
      'remoteUrl "not a url" is not a URL',
    )
  })

  it('holds each device profile entry to the rules of its own operation', () => {
    const profile = (operations: unknown[]) => ({ status: 'init', name: 'prod', version: '2', operations })
    expect(
      commandInputProblem(
        'device_profile',
        profile([
          { operation: 'firmware_update', payload: { name: 'img', version: '2', remoteUrl: 'http://x/i' } },
          { operation: 'software_update', payload: install({ name: 'libfoo2' }) },
        ]),
      ),
    ).toBeUndefined()
    expect(
      commandInputProblem(
        'device_profile',
        profile([{ operation: 'software_update', payload: install({ name: '--allow-unauthenticated' }) }]),
      ),
    ).toBe(
      'Invalid device_profile command: operations[0].payload.updateList[0].modules[0].name "--allow-unauthenticated" starts with "-"',
    )
    expect(commandInputProblem('device_profile', profile([{ operation: '../x', payload: {} }]))).toContain(
      'operations[0].operation "../x" is not an operation name',
    )
  })
})
