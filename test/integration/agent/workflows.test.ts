import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { MAIN, startWorkflowCore, statuses, type WorkflowCore } from '../../fixtures/workflows/harness'
import { collect } from '../../helpers/core'

// Workflow files (reference §3.4) run by the real agent of a real core: scripts are real processes,
// states are read back through the API and the broker.

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

describe('workflow scripts', () => {
  let t: WorkflowCore
  const scripts: Record<string, string> = {}

  beforeAll(async () => {
    t = await startWorkflowCore(({ script, workflow }) => {
      scripts.sleep = script('sleep.sh', 'echo started\nsleep "$1"\necho "slept $1"')
      scripts.record = script('record.sh', 'echo "$2" > "$1"')
      scripts.exit = script('exit.sh', 'echo "exiting with $1"\nexit "$1"')
      scripts.emit = script(
        'emit.sh',
        [
          'echo "some noise before"',
          'echo ":::begin-tedge:::"',
          'echo \'{"status": "ignored", "measured": 42, "nested": {"a": [1, 2]}}\'',
          'echo ":::end-tedge:::"',
          'echo "noise after"',
        ].join('\n'),
      )
      scripts.choose = script(
        'choose.sh',
        'printf \':::begin-tedge:::\\n{"status": "%s", "chosen": "%s"}\\n:::end-tedge:::\\n\' "$1" "$1"',
      )
      scripts.args = script(
        'args.sh',
        'out=$1\nshift\nprintf \'%s\\n\' "$@" > "$out"\necho "got $# arguments"',
      )

      workflow(
        'slow.toml',
        `operation = "slow_op"
[init]
script = "${scripts.sleep} 30"
timeout_second = 1
on_success = "successful"
on_kill = { status = "failed", reason = "took longer than 1 s" }
`,
      )
      workflow(
        'slow-default.toml',
        `operation = "slow_default"
# The top-level timeout applies to every script; no on_kill: thin-edge's default reason.
timeout_second = 1
[init]
script = "${scripts.sleep} 30"
on_success = "successful"
`,
      )
      workflow(
        'cancel.toml',
        `operation = "cancel_op"
[init]
action = "proceed"
on_success = "executing"
[executing]
script = "${scripts.sleep} 30"
on_success = "successful"
on_kill = "cancelled"
[cancelled]
script = "${scripts.record} \${.payload.marker} cleaned-up"
on_success = { status = "failed", reason = "cancelled by the operator" }
`,
      )
      workflow(
        'cancel-plain.toml',
        `operation = "cancel_plain"
[init]
script = "${scripts.sleep} 30"
on_success = "successful"
`,
      )
      workflow(
        'exit.toml',
        `operation = "exit_op"
[init]
script = "${scripts.exit} \${.payload.code}"
on_exit.0 = "successful"
on_exit.2-4 = "in_range"
on_exit._ = "other"
[in_range]
action = "proceed"
on_success = { status = "failed", reason = "exit code in 2-4" }
[other]
action = "proceed"
on_success = "failed"
`,
      )
      workflow(
        'stdout.toml',
        `operation = "stdout_op"
[init]
script = "${scripts.emit}"
on_success = "executing"
[executing]
script = "${scripts.choose} \${.payload.choice}"
on_stdout = ["left", "right"]
[left]
action = "proceed"
on_success = "successful"
[right]
action = "proceed"
on_success = { status = "failed", reason = "went right" }
`,
      )
      workflow(
        'template.toml',
        `operation = "template_op"
[init]
script = "${scripts.args} \${.payload.out} \${.payload.x} \${.topic.cmd_id} \${.payload.nested.y} \${.payload.list[1]} \${.payload.list[-1]} \${.topic.target} \${.topic.operation} \${.payload.greeting} \${.payload.missing} cmd=\${.topic.cmd_id} \${.payload.nested} \${.topic}"
on_success = "successful"
`,
      )
      // Valid TOML, but `script` must be a string: the file gives thin-edge's failing placeholder.
      workflow('invalid.toml', 'operation = "invalid_op"\n[init]\nscript = 42\n')
      // Not even TOML: thin-edge ignores the file.
      workflow('syntax.toml', 'operation = "syntax_op"\n[init\n')
    })
  })
  afterAll(() => t?.stop())

  /** The retained capability messages of the main device in the broker, by operation. */
  async function retainedCapabilities(): Promise<Record<string, string>> {
    const retained = await t.core.parts.bus.retained('te/device/main///cmd/+')
    return Object.fromEntries(retained.map((m) => [m.topic.split('/').at(-1), m.payload.toString()]))
  }

  it('kills a script at its timeout_second and follows on_kill', async () => {
    const { id } = await t.request(MAIN, 'slow_op')
    const done = await t.finished(id)
    expect(statuses(done)).toEqual(['init', 'failed'])
    expect(done.reason).toBe('took longer than 1 s')
    expect(done.log).toContain('stdout: started')
    expect(done.log).not.toContain('slept')
  })

  it('applies the top-level timeout_second, failing with "killed by signal 15" without on_kill', async () => {
    const { id } = await t.request(MAIN, 'slow_default')
    const done = await t.finished(id)
    expect(statuses(done)).toEqual(['init', 'failed'])
    expect(done.reason).toBe(`${scripts.sleep} killed by signal 15`)
  })

  it('kills the running script when the command is cancelled, then follows on_kill', async () => {
    const marker = path.join(t.scriptsDir, 'cancelled.txt')
    const { id } = await t.request(MAIN, 'cancel_op', { marker })
    await vi.waitFor(
      async () => {
        const running = await t.detail(id)
        expect(running.log).toContain('stdout: started')
        expect(running.cancellable).toBe(true)
      },
      { timeout: 5000, interval: 25 },
    )

    const cancel = await t.http(`/api/v1/operations/${id}/cancel`, { method: 'POST' })
    expect(cancel.status).toBe(200)
    const done = await t.finished(id)

    expect(statuses(done)).toEqual(['init', 'executing', 'cancelled', 'failed'])
    expect(done.reason).toBe('cancelled by the operator')
    expect(readFileSync(marker, 'utf8')).toBe('cleaned-up\n')
    expect(done.log).not.toContain('slept')
    expect((await t.http(`/api/v1/operations/${id}/cancel`, { method: 'POST' })).status).toBe(409)
  })

  it('fails a cancelled script with "Cancelled by <actor>" when the state has no on_kill', async () => {
    const { id } = await t.request(MAIN, 'cancel_plain')
    await vi.waitFor(async () => expect((await t.detail(id)).log).toContain('stdout: started'), {
      timeout: 5000,
      interval: 25,
    })
    expect((await t.http(`/api/v1/operations/${id}/cancel`, { method: 'POST' })).status).toBe(200)
    const done = await t.finished(id)
    expect(statuses(done)).toEqual(['init', 'failed'])
    expect(done.reason).toBe('Cancelled by api')
  })

  it('selects the handler by exit code: on_exit.0, the range on_exit.2-4, and on_exit._', async () => {
    const codes = [0, 2, 4, 5, 1]
    const done = await Promise.all(
      codes.map(async (code) => t.finished((await t.request(MAIN, 'exit_op', { code })).id)),
    )
    const outcomes = Object.fromEntries(
      done.map((d, i) => [codes[i], { statuses: statuses(d), reason: d.reason }]),
    )

    expect(outcomes).toEqual({
      0: { statuses: ['init', 'successful'], reason: null },
      2: { statuses: ['init', 'in_range', 'failed'], reason: 'exit code in 2-4' },
      4: { statuses: ['init', 'in_range', 'failed'], reason: 'exit code in 2-4' },
      // on_exit._ is the error handler: the reason is thin-edge's, not the handler's.
      5: { statuses: ['init', 'other', 'failed'], reason: `${scripts.exit} returned exit code 5` },
      1: { statuses: ['init', 'other', 'failed'], reason: `${scripts.exit} returned exit code 1` },
    })
  })

  it('merges the :::begin-tedge::: JSON into the payload; on_stdout lets the script choose the next state', async () => {
    const left = await t.finished((await t.request(MAIN, 'stdout_op', { choice: 'left' })).id)
    expect(statuses(left)).toEqual(['init', 'executing', 'left', 'successful'])
    // on_success wins over the script's own "status"; every other field is merged.
    expect(left.states[1]?.payload).toMatchObject({
      status: 'executing',
      measured: 42,
      nested: { a: [1, 2] },
    })
    expect(left.payload).toMatchObject({
      measured: 42,
      nested: { a: [1, 2] },
      chosen: 'left',
      choice: 'left',
    })

    const right = await t.finished((await t.request(MAIN, 'stdout_op', { choice: 'right' })).id)
    expect(statuses(right)).toEqual(['init', 'executing', 'right', 'failed'])
    expect(right.reason).toBe('went right')

    const elsewhere = await t.finished((await t.request(MAIN, 'stdout_op', { choice: 'up' })).id)
    expect(statuses(elsewhere)).toEqual(['init', 'executing', 'failed'])
    expect(elsewhere.reason).toBe(`Program \`${scripts.choose}\` stdout status "up" is not one of on_stdout`)
  })

  it('expands templates (.payload…, .topic…) into script arguments, one argument per word', async () => {
    const out = path.join(t.scriptsDir, 'args.txt')
    const { id, cmdId } = await t.request(MAIN, 'template_op', {
      out,
      x: 7,
      nested: { y: 'why', b: true },
      list: ['first', 'second', 'last'],
      greeting: 'hello world',
    })
    const done = await t.finished(id)
    expect(done.status).toBe('successful')
    expect(readFileSync(out, 'utf8').split('\n').slice(0, -1)).toEqual([
      '7',
      cmdId,
      'why',
      'second',
      'last',
      'device/main//',
      'template_op',
      'hello world',
      '',
      `cmd=${cmdId}`,
      '{"b":true,"y":"why"}',
      `te/device/main///cmd/template_op/${cmdId}`,
    ])
    expect(done.log).toContain('got 12 arguments')
  })

  it('injects @version (the sha256 of the file) and logPath (the log with the script output)', async () => {
    const { id } = await t.request(MAIN, 'stdout_op', { choice: 'left' })
    const done = await t.finished(id)
    const version = sha256(readFileSync(path.join(t.operationsDir, 'stdout.toml')))

    expect(done.workflowVersion).toBe(version)
    // The requester's init has neither; every state the agent publishes has both.
    expect(done.states[0]?.payload).not.toHaveProperty('@version')
    for (const state of done.states.slice(1)) {
      expect(state.payload['@version']).toBe(version)
      expect(state.payload.logPath).toBe(done.payload.logPath)
    }
    const logPath = done.payload.logPath as string
    expect(path.basename(logPath)).toBe(`workflow-stdout_op-${done.cmdId}.log`)
    // Complete once the command is finished: the API's copy already has its last state.
    expect(done.log).toContain('→ successful\n')
    for (const log of [done.log, readFileSync(logPath, 'utf8')]) {
      expect(log).toContain('stdout: some noise before')
      expect(log).toContain('noise after')
      expect(log).toContain(`run: ${scripts.choose} left`)
    }
  })

  it('publishes the capability of an invalid definition, whose commands fail with the reason', async () => {
    await vi.waitFor(async () => expect(await retainedCapabilities()).toHaveProperty('invalid_op', '{}'))

    const done = await t.finished((await t.request(MAIN, 'invalid_op')).id)
    expect(statuses(done)).toEqual(['init', 'executing', 'failed'])
    expect(done.reason).toMatch(/^Invalid operation workflow definition /)
    expect(done.reason).toContain(path.join(t.operationsDir, 'invalid.toml'))
    expect(done.workflowVersion).toBe(sha256(readFileSync(path.join(t.operationsDir, 'invalid.toml'))))
  })

  it('ignores a file that is not TOML at all: no capability, not even for an empty operation name', async () => {
    const capabilities = await vi.waitFor(async () => {
      const retained = await retainedCapabilities()
      expect(retained).toHaveProperty('exit_op')
      expect(retained).toHaveProperty('invalid_op')
      return retained
    })
    expect(capabilities).not.toHaveProperty('syntax_op')
    // The file's operation "" was published as `te/device/main///cmd/` before registry.ts skipped it.
    expect(Object.keys(capabilities)).not.toContain('')
    const response = await t.http(`/api/v1/entities/${MAIN}/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'syntax_op' }),
    })
    expect(response.status).toBe(409)
  })

  it('hot-reloads operations/: a new file publishes its capability, an edit is a new version, removal clears it', async () => {
    const client = await t.client()
    const capability = await collect(client, 'te/device/main///cmd/hot_op')
    const file = path.join(t.operationsDir, 'hot.toml')
    const version1 = `operation = "hot_op"\n[init]\nscript = "${scripts.exit} 0"\non_success = "successful"\n`
    writeFileSync(file, version1)
    await capability.next((m) => m.payload === '{}')

    const first = await t.finished((await t.request(MAIN, 'hot_op')).id)
    expect(first.status).toBe('successful')
    expect(first.workflowVersion).toBe(sha256(version1))

    const version2 = version1.replace(
      'on_success = "successful"',
      'on_success = { status = "failed", reason = "v2" }',
    )
    writeFileSync(file, version2)
    const second = await vi.waitFor(
      async () => {
        const done = await t.finished((await t.request(MAIN, 'hot_op')).id)
        expect(done.workflowVersion).toBe(sha256(version2))
        return done
      },
      { timeout: 5000, interval: 100 },
    )
    expect(second.status).toBe('failed')
    expect(second.reason).toBe('v2')

    rmSync(file)
    await capability.next((m) => m.payload === '')
    expect(capability.messages.at(-1)?.payload).toBe('')
    const gone = await t.http(`/api/v1/entities/${MAIN}/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'hot_op' }),
    })
    expect(gone.status).toBe(409)
    expect(existsSync(file)).toBe(false)
  })
})
