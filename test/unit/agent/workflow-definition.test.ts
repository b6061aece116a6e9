// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates are what these tests are about
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { standardWorkflow } from '../../../src-main/core/agent/builtin/builtin'
import {
  externalStates,
  parseWorkflow,
  placeholderWorkflow,
} from '../../../src-main/core/agent/workflow/definition'
import type { StateDefinition, WorkflowDefinition } from '../../../src-main/core/agent/workflow/model'

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/workflows')
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8')

function state(workflow: WorkflowDefinition, name: string): StateDefinition {
  const found = workflow.states.get(name)
  if (!found) throw new Error(`no state ${name} in ${[...workflow.states.keys()].join(', ')}`)
  return found
}

/** A workflow whose only interesting state is `[step]`, reached from `init`. */
function withStep(step: string, top = ''): WorkflowDefinition {
  return parseWorkflow(
    `operation = "check"\n${top}\n[init]\non_success = "step"\n\n[step]\n${step}\n`,
    '/ops/check.toml',
  )
}

function reasonOf(text: string, source = '/ops/x.toml'): string | undefined {
  return parseWorkflow(text, source).invalid
}

describe('parseWorkflow: the thin-edge.io docs firmware_update example', () => {
  const text = fixture('firmware_update.toml')
  const workflow = parseWorkflow(text, '/etc/tedge/operations/firmware_update.toml')

  it('is valid, versioned by the sha256 of its text and keeps its source', () => {
    expect(workflow.invalid).toBeUndefined()
    expect(workflow.operation).toBe('firmware_update')
    expect(workflow.version).toBe(createHash('sha256').update(text).digest('hex'))
    expect(workflow.version).toMatch(/^[0-9a-f]{64}$/)
    expect(workflow.source).toBe('/etc/tedge/operations/firmware_update.toml')
    expect(workflow.defaults).toEqual({ onError: { status: 'failed' } })
    expect([...workflow.states.keys()]).toEqual([
      'init',
      'executing',
      'download',
      'install',
      'reboot',
      'verify',
      'commit',
      'rollback',
      'successful',
      'failed',
    ])
  })

  it('reads every state with its action and handlers', () => {
    expect(state(workflow, 'init')).toEqual({
      name: 'init',
      action: { kind: 'script', command: '/usr/bin/firmware_handler.sh plan', background: false },
      onSuccess: { status: 'executing' },
      onError: { status: 'failed', reason: 'not timely' },
      onExit: [],
    })
    expect(state(workflow, 'executing')).toEqual({
      name: 'executing',
      action: { kind: 'proceed' },
      onSuccess: { status: 'download' },
      onExit: [],
    })
    // `download` does not take the workflow's `on_error` (thin-edge builds its handlers without defaults).
    expect(state(workflow, 'download')).toEqual({
      name: 'download',
      action: {
        kind: 'builtin-action',
        name: 'download',
        input: { url: '${.payload.remoteUrl}' },
        output: {},
      },
      onSuccess: { status: 'install' },
      onError: { status: 'failed' },
      onExit: [],
    })
    expect(state(workflow, 'install').action).toEqual({
      kind: 'script',
      command: '/usr/bin/firmware_handler.sh install ${.payload.downloadedPath}',
      background: false,
    })
    // A script falls back to the workflow's `on_error`.
    expect(state(workflow, 'install').onError).toEqual({ status: 'failed' })
    // A script's `on_exec` is read but has no meaning for it.
    expect(state(workflow, 'reboot').onSuccess).toBeUndefined()
    expect(state(workflow, 'verify')).toMatchObject({
      onSuccess: { status: 'commit' },
      onError: { status: 'rollback', reason: 'sanity check failed' },
    })
    expect(state(workflow, 'commit').onError).toEqual({ status: 'rollback', reason: 'commit failed' })
    expect(state(workflow, 'rollback').onSuccess).toEqual({ status: 'failed' })
    expect(state(workflow, 'successful').action).toEqual({ kind: 'cleanup' })
    expect(state(workflow, 'failed').action).toEqual({ kind: 'cleanup' })
  })

  it('leads nowhere outside the workflow', () => {
    expect(externalStates(workflow)).toEqual([])
  })
})

describe('parseWorkflow: real thin-edge.io workflows', () => {
  it("reads the built-in device_profile workflow's iterate, sub-operation and await states", () => {
    const workflow = parseWorkflow(fixture('device_profile.toml'), 'device_profile.toml')
    expect(workflow.invalid).toBeUndefined()
    expect(state(workflow, 'next_operation')).toEqual({
      name: 'next_operation',
      action: { kind: 'iterate', target: '${.payload.operations}' },
      onNext: { status: 'apply_operation' },
      onSuccess: { status: 'twin_update' },
      onError: { status: 'rollback' },
      onExit: [],
    })
    expect(state(workflow, 'apply_operation')).toEqual({
      name: 'apply_operation',
      action: {
        kind: 'operation',
        operation: '${.payload.@next.item.operation}',
        input: '${.payload.@next.item.payload}',
      },
      onExec: { status: 'awaiting_operation' },
      onExit: [],
    })
    expect(state(workflow, 'awaiting_operation')).toMatchObject({
      action: { kind: 'builtin-action', name: 'await-operation-completion', input: {}, output: {} },
      onSuccess: { status: 'next_operation' },
      onError: { status: 'rollback' },
      onTimeout: { status: 'failed', reason: 'timeout' },
    })
    expect(state(workflow, 'rollback').onSuccess).toEqual({
      status: 'failed',
      reason: 'Device profile application failed',
    })
  })

  it('rewrites the deprecated `action = "builtin"`: trigger outside `executing`, await in it', () => {
    const workflow = parseWorkflow(fixture('log_upload_legacy.toml'), 'log_upload.toml')
    expect(workflow.invalid).toBeUndefined()
    expect(state(workflow, 'scheduled')).toMatchObject({
      action: { kind: 'operation', operation: 'builtin:log_upload', input: {} },
      onExec: { status: 'executing' },
    })
    expect(state(workflow, 'executing')).toMatchObject({
      action: { kind: 'builtin-action', name: 'await-operation-completion' },
      onSuccess: { status: 'postprocess' },
      onError: { status: 'failed' },
      onTimeout: { status: 'failed', reason: 'timeout' },
    })
  })
})

describe('parseWorkflow: states and handlers', () => {
  it('adds the terminal states when omitted, and a state without action proceeds to `successful`', () => {
    const workflow = parseWorkflow('operation = "x"\n[init]\n', 'x.toml')
    expect(workflow.invalid).toBeUndefined()
    expect(state(workflow, 'init')).toEqual({
      name: 'init',
      action: { kind: 'proceed' },
      onSuccess: { status: 'successful' },
      onExit: [],
    })
    expect(state(workflow, 'successful').action).toEqual({ kind: 'cleanup' })
    expect(state(workflow, 'failed').action).toEqual({ kind: 'cleanup' })
  })

  it('reads on_exit codes, ranges and wildcard; on_exit.0 is the success handler, on_exit._ the error one', () => {
    const step = state(
      withStep(`script = "/bin/check.sh"
on_exit.0 = "next_state"
on_exit.1 = { status = "retry_state", reason = "busy" }
on_exit.2-5 = { status = "fatal_state", reason = "oops" }
on_exit._ = "failed"
on_kill = { status = "failed", reason = "killed" }`),
      'step',
    )
    expect(step.onSuccess).toEqual({ status: 'next_state' })
    expect(step.onError).toEqual({ status: 'failed' })
    expect(step.onKill).toEqual({ status: 'failed', reason: 'killed' })
    expect(step.onExit).toEqual([
      { from: 0, to: 0, transition: { status: 'next_state' } },
      { from: 1, to: 1, transition: { status: 'retry_state', reason: 'busy' } },
      { from: 2, to: 5, transition: { status: 'fatal_state', reason: 'oops' } },
    ])
  })

  it('takes the timeout and on_error of the workflow unless the state sets its own', () => {
    const top = 'timeout_second = 20\non_error = "broken"\non_timeout = "too_late"'
    expect(state(withStep('script = "a.sh"', top), 'step')).toMatchObject({
      timeoutSeconds: 20,
      onError: { status: 'broken' },
    })
    expect(
      state(withStep('script = "a.sh"\ntimeout_second = 15\non_error = "error"', top), 'step'),
    ).toMatchObject({
      timeoutSeconds: 15,
      onError: { status: 'error' },
    })
    const awaiting = state(withStep('action = "await-agent-restart"\non_success = "done"', top), 'step')
    expect(awaiting).toMatchObject({ timeoutSeconds: 20, onTimeout: { status: 'too_late' } })
    expect(withStep('script = "a.sh"', top).defaults).toEqual({
      onError: { status: 'broken' },
      onTimeout: { status: 'too_late' },
      timeoutSeconds: 20,
    })
  })

  it('reads on_stdout, background scripts, sub-operations, builtin steps and the other actions', () => {
    expect(state(withStep('script = "pick.sh"\non_stdout = ["a", "b"]'), 'step').onStdout).toEqual(['a', 'b'])
    expect(state(withStep('background_script = "sudo reboot"\non_exec = "waiting"'), 'step')).toMatchObject({
      action: { kind: 'script', command: 'sudo reboot', background: true },
      onExec: { status: 'waiting' },
    })
    // `on_exec` defaults to `successful` (`ExecHandlers::try_new`).
    expect(state(withStep('background_script = "sudo reboot"'), 'step').onExec).toEqual({
      status: 'successful',
    })
    expect(
      state(
        withStep(
          'operation = "config_update"\ninput.type = "mosquitto"\ninput_script = "/bin/in.sh ${.payload.x}"',
        ),
        'step',
      ).action,
    ).toEqual({
      kind: 'operation',
      operation: 'config_update',
      input: { type: 'mosquitto' },
      inputScript: '/bin/in.sh ${.payload.x}',
    })
    expect(state(withStep('operation = "builtin:check"\non_exec = "executing"'), 'step').action).toEqual({
      kind: 'operation',
      operation: 'builtin:check',
      input: {},
    })
    expect(
      state(
        withStep('action = "builtin:config_update:set"\ninput.setFrom = "${.payload.downloadedPath}"'),
        'step',
      ).action,
    ).toEqual({
      kind: 'builtin-step',
      operation: 'config_update',
      step: 'set',
      input: { setFrom: '${.payload.downloadedPath}' },
    })
    expect(
      state(
        withStep('action = "await-operation-completion"\non_success = "ok"\noutput.x.y = "${.payload.z}"'),
        'step',
      ).action,
    ).toEqual({
      kind: 'builtin-action',
      name: 'await-operation-completion',
      input: {},
      output: { x: { y: '${.payload.z}' } },
    })
    expect(state(withStep('action = "restart-agent"\non_exec = "resumed"'), 'step')).toMatchObject({
      action: { kind: 'builtin-action', name: 'restart-agent' },
      onExec: { status: 'resumed' },
    })
    expect(
      state(withStep('action = "upload"\ninput.url = "${.payload.tedgeUrl}"'), 'step').action,
    ).toMatchObject({
      name: 'upload',
      input: { url: '${.payload.tedgeUrl}' },
    })
  })

  it('lists the statuses handled by someone else', () => {
    const workflow = withStep(
      'script = "a.sh"\non_exit.1 = "mapper_check"\non_stdout = ["x"]\non_error = "fallback"',
    )
    expect(externalStates(workflow)).toEqual(['fallback', 'mapper_check', 'x'])
    expect(workflow.invalid).toBeUndefined()
  })
})

describe('parseWorkflow: invalid files give the placeholder workflow', () => {
  it('fails every command at once with the reason', () => {
    const workflow = parseWorkflow(
      'operation = "x"\n[init]\naction = "dance"\n',
      '/etc/tedge/operations/x.toml',
    )
    const reason =
      'Invalid operation workflow definition "/etc/tedge/operations/x.toml": [init] Unknown action: dance'
    expect(workflow.invalid).toBe(reason)
    expect(workflow.operation).toBe('x')
    expect(workflow.source).toBe('/etc/tedge/operations/x.toml')
    expect(workflow.version).toBe(
      createHash('sha256').update('operation = "x"\n[init]\naction = "dance"\n').digest('hex'),
    )
    expect([...workflow.states.values()]).toEqual([
      { name: 'init', action: { kind: 'proceed' }, onSuccess: { status: 'executing' }, onExit: [] },
      { name: 'executing', action: { kind: 'proceed' }, onSuccess: { status: 'failed', reason }, onExit: [] },
      { name: 'failed', action: { kind: 'cleanup' }, onExit: [] },
    ])
  })

  it('has no operation when the operation cannot be read (thin-edge ignores such a file)', () => {
    const syntax = parseWorkflow('operation = "x\n[init]\n', '/ops/x.toml')
    expect(syntax.operation).toBe('')
    expect(syntax.invalid).toMatch(
      /^Invalid operation workflow definition "\/ops\/x.toml": TOML parse error at line 1, column \d+: /,
    )
    expect(reasonOf('[init]\n')).toBe(
      'Invalid operation workflow definition "/ops/x.toml": missing field `operation`',
    )
    expect(parseWorkflow('operation = 42\n[init]\n', 'x.toml')).toMatchObject({
      operation: '',
      states: expect.any(Map),
    })
  })

  it.each([
    ['no init state', 'operation = "x"\n[start]\n', 'Missing mandatory state: init'],
    ['a non-table state', 'operation = "x"\ninit = "go"\n', '[init] a state must be a table'],
    [
      'the removed `restart` action',
      'operation = "x"\n[init]\naction = "restart"\n',
      '[init] Unknown action: restart',
    ],
    [
      '`builtin:<op>` without step',
      'operation = "x"\n[init]\naction = "builtin:x"\n',
      '[init] Unknown action: builtin:x',
    ],
    [
      'a script on a terminal state',
      'operation = "x"\n[init]\n[failed]\nscript = "/some/script/which/fails"\n',
      'Invalid action on failed state: script',
    ],
    [
      'a builtin of another operation',
      'operation = "x"\n[init]\noperation = "builtin:software_update"\n',
      '[init] The `builtin:software_update` cannot be invoked from `x`, but only from `software_update`',
    ],
    [
      'two actions in one state',
      'operation = "x"\n[init]\nscript = "a.sh"\naction = "proceed"\n',
      '[init] only one action may be given, found script, action',
    ],
    [
      'an unclosed quote',
      'operation = "x"\n[init]\nscript = "sh -c \'exit 1"\n',
      "[init] invalid script: sh -c 'exit 1: missing closing quote",
    ],
    ['an empty script', 'operation = "x"\n[init]\nscript = "  # nothing"\n', '[init] invalid script: empty'],
    [
      'a handler of the wrong type',
      'operation = "x"\n[init]\non_success = 3\n',
      '[init] invalid handler `on_success`',
    ],
    [
      'a handler table without status',
      'operation = "x"\n[init]\non_success = { reason = "r" }\n',
      '[init] invalid handler',
    ],
    [
      'a negative timeout',
      'operation = "x"\ntimeout_second = -1\n[init]\n',
      'invalid type for `timeout_second`',
    ],
    [
      'a fractional timeout',
      'operation = "x"\n[init]\ntimeout_second = 1.5\n',
      'invalid type for `timeout_second`',
    ],
    [
      'an exit code above 255',
      'operation = "x"\n[init]\nscript = "a"\non_exit.256 = "y"\n',
      '[init] invalid exit: 256',
    ],
    [
      'an exit code that is no number',
      'operation = "x"\n[init]\nscript = "a"\non_exit.one = "y"\n',
      '[init] invalid exit: one',
    ],
    [
      'on_success with on_exit.0',
      'operation = "x"\n[init]\nscript = "a"\non_exit.0 = "a"\non_success = "b"\n',
      "[init] Successful handler provided for 'on_success' and 'on_exit.0'",
    ],
    [
      'on_error with on_exit._',
      'operation = "x"\n[init]\nscript = "a"\non_exit._ = "a"\non_error = "b"\n',
      "[init] Error handler provided for 'on_error' and 'on_exit._'",
    ],
    [
      'on_success with on_stdout',
      'operation = "x"\n[init]\nscript = "a"\non_success = "a"\non_stdout = ["b"]\n',
      "[init] Successful handler provided for 'on_success' and 'on_stdout'",
    ],
    [
      'overlapping ranges',
      'operation = "x"\n[init]\nscript = "a"\non_exit.1-5 = "a"\non_exit.4-8 = "b"\n',
      "[init] Overlapping handlers provided for '1-5' and '4-8' exit code ranges",
    ],
    [
      'an inverted range',
      'operation = "x"\n[init]\nscript = "a"\non_exit.5-1 = "oops"\n',
      "[init] Invalid exit code range '5-1' as 5>1",
    ],
    [
      'iterate without on_next',
      'operation = "x"\n[init]\niterate = "${.payload.xs}"\non_success = "done"\n',
      '[init] Missing mandatory state: on_next',
    ],
    [
      'iterate over no path',
      'operation = "x"\n[init]\niterate = "{.payload.xs}"\non_next = "a"\non_success = "b"\n',
      '[init] The provided target {.payload.xs} is not a valid path expression',
    ],
    [
      'an await without on_success',
      'operation = "x"\n[init]\naction = "await-operation-completion"\n',
      "[init] No handler is provided for 'on_success'",
    ],
    [
      'an array as sub-operation input',
      'operation = "x"\n[init]\noperation = "y"\ninput = [1, 2]\n',
      '[init] Only records can be used for command input, not a array as [1,2]',
    ],
    ['an operation name with a slash', 'operation = "a/b"\n[init]\n', 'invalid operation name "a/b"'],
  ])('rejects %s', (_case, text, detail) => {
    const reason = reasonOf(text)
    expect(reason).toContain('Invalid operation workflow definition "/ops/x.toml": ')
    expect(reason).toContain(detail)
  })

  it('accepts what thin-edge accepts even if surprising: unknown keys and top-level handler keys', () => {
    const workflow = parseWorkflow(
      'operation = "x"\non_success = "ignored"\n[init]\non_sucess = "typo"\n',
      'x.toml',
    )
    expect(workflow.invalid).toBeUndefined()
    expect(state(workflow, 'init').onSuccess).toEqual({ status: 'successful' })
    expect(workflow.states.has('on_success')).toBe(false)
  })
})

describe('placeholderWorkflow and the built-in workflow', () => {
  it('builds the placeholder of any operation', () => {
    const workflow = placeholderWorkflow('restart', 'x.toml', 'broken')
    expect(workflow).toMatchObject({
      operation: 'restart',
      source: 'x.toml',
      invalid: 'broken',
      defaults: {},
    })
    expect(state(workflow, 'executing').onSuccess).toEqual({ status: 'failed', reason: 'broken' })
  })

  it("builds thin-edge's workflow of a built-in operation", () => {
    const workflow = parseWorkflow(standardWorkflow('software_update'), 'builtin')
    expect(workflow).toMatchObject({ operation: 'software_update', source: 'builtin' })
    expect([...workflow.states.keys()]).toEqual(['init', 'scheduled', 'executing', 'successful', 'failed'])
    expect(state(workflow, 'init').onSuccess).toEqual({ status: 'scheduled' })
    expect(state(workflow, 'scheduled')).toMatchObject({
      action: { kind: 'operation', operation: 'builtin:software_update' },
      onExec: { status: 'executing' },
    })
    expect(state(workflow, 'executing')).toMatchObject({
      action: { kind: 'builtin-action', name: 'await-operation-completion' },
      onSuccess: { status: 'successful' },
    })
  })
})
