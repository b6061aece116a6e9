import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EntityDetail } from '../../../src-main/core/api/types'
import { MAIN, startWorkflowCore, statuses, type WorkflowCore } from '../../fixtures/workflows/harness'
import { collect } from '../../helpers/core'

// Commands as a whole (reference §3.1): sub-operations, iterations, the built-in device_profile,
// requesters on the bus and through the API, and commands EdgeTwin only watches.

type Payload = Record<string, unknown>
const parse = (payload: string): Payload | '' => (payload === '' ? '' : (JSON.parse(payload) as Payload))

describe('workflow commands', () => {
  let t: WorkflowCore
  const scripts: Record<string, string> = {}

  beforeAll(async () => {
    t = await startWorkflowCore(({ script, workflow }) => {
      // Prints {"result": "<value>-done"}, or fails with a reason when the value is "fail".
      scripts.sub = script(
        'sub.sh',
        `if [ "$1" = fail ]; then
  printf ':::begin-tedge:::\\n{"reason": "sub-operation refused %s"}\\n:::end-tedge:::\\n' "$1"
  exit 1
fi
printf ':::begin-tedge:::\\n{"result": "%s-done"}\\n:::end-tedge:::\\n' "$1"`,
      )
      scripts.append = script('append.sh', 'out=$1\nshift\necho "$*" >> "$out"')
      scripts.gate = script('gate.sh', 'echo waiting\nwhile [ ! -f "$1" ]; do sleep 0.05; done\necho opened')

      workflow(
        'sub_op.toml',
        `operation = "sub_op"
[init]
script = "${scripts.sub} \${.payload.value}"
on_success = "successful"
`,
      )
      workflow(
        'parent_op.toml',
        `operation = "parent_op"
[init]
action = "proceed"
on_success = "executing"
[executing]
operation = "sub_op"
input.value = "\${.payload.value}"
input.parent = "\${.topic.cmd_id}"
on_exec = "awaiting"
[awaiting]
action = "await-operation-completion"
on_success = "successful"
output.result = "\${.payload.result}"
output.subStatus = "\${.payload.status}"
`,
      )
      workflow(
        'iterate_op.toml',
        `operation = "iterate_op"
[init]
action = "proceed"
on_success = "next"
[next]
iterate = "\${.payload.items}"
on_next = "each"
on_success = "successful"
[each]
script = "${scripts.append} \${.payload.out} \${.payload.@next.index} \${.payload.@next.item.name}"
on_success = "next"
`,
      )
      workflow(
        'gate_op.toml',
        `operation = "gate_op"
[init]
script = "${scripts.gate} \${.payload.gate}"
on_success = "successful"
`,
      )
    })
  })
  afterAll(() => t?.stop())

  it('runs a sub-operation with input.*, awaits it with output.*, then clears its topic', async () => {
    const client = await t.client()
    const sub = await collect(client, 'te/device/main///cmd/sub_op/+')
    const parent = await t.request(MAIN, 'parent_op', { value: 'x' })
    const done = await t.finished(parent.id)

    expect(statuses(done)).toEqual(['init', 'executing', 'awaiting', 'successful'])
    expect(done.payload).toMatchObject({ value: 'x', result: 'x-done', subStatus: 'successful' })

    const topic = `te/device/main///cmd/sub_op/sub:parent_op:${parent.cmdId}`
    await sub.next((m) => m.topic === topic && m.payload === '')
    const states = sub.messages.filter((m) => m.topic === topic).map((m) => parse(m.payload))
    expect(states[0]).toEqual({ status: 'init', value: 'x', parent: parent.cmdId })
    expect(states.at(-2)).toMatchObject({ status: 'successful', result: 'x-done', value: 'x' })
    expect(states.at(-1)).toBe('')

    const child = (await t.operations('sub_op')).find((o) => o.cmdId === `sub:parent_op:${parent.cmdId}`)
    expect(child).toMatchObject({ parent: parent.id, executor: 'edgetwin', status: 'successful' })
  })

  it('fails the parent with the reason of a failed sub-operation', async () => {
    const parent = await t.request(MAIN, 'parent_op', { value: 'fail' })
    const done = await t.finished(parent.id)
    expect(statuses(done)).toEqual(['init', 'executing', 'awaiting', 'failed'])
    expect(done.reason).toBe('sub-operation refused fail')
  })

  it('iterates over a list: @next per item, @skip entries left out, then on_success', async () => {
    const out = path.join(t.scriptsDir, 'iterate.txt')
    const { id } = await t.request(MAIN, 'iterate_op', {
      out,
      items: [{ name: 'a' }, { name: 'b', '@skip': true }, { name: 'c' }],
    })
    const done = await t.finished(id)

    expect(statuses(done)).toEqual(['init', 'next', 'each', 'next', 'each', 'next', 'successful'])
    expect(readFileSync(out, 'utf8')).toBe('0 a\n2 c\n')
    expect(done.states.filter((s) => s.status === 'each').map((s) => s.payload['@next'])).toEqual([
      { index: 0, item: { name: 'a' } },
      { index: 2, item: { name: 'c' } },
    ])
    expect(done.payload).not.toHaveProperty('@next')

    const empty = await t.finished((await t.request(MAIN, 'iterate_op', { out, items: [] })).id)
    expect(statuses(empty)).toEqual(['init', 'next', 'successful'])
    const notAList = await t.finished((await t.request(MAIN, 'iterate_op', { out, items: 'abc' })).id)
    expect(statuses(notAList)).toEqual(['init', 'next', 'failed'])
    expect(notAList.reason).toBe(`"\${.payload.items}" is not a list`)
  })

  it('runs the built-in device_profile with a user workflow as sub-operation, then sets twin/device_profile', async () => {
    const client = await t.client()
    const sub = await collect(client, 'te/device/main///cmd/sub_op/+')
    const requested = await t.request(MAIN, 'device_profile', {
      name: 'line-profile',
      version: '7',
      operations: [
        { operation: 'sub_op', '@skip': false, payload: { value: 'one' } },
        { operation: 'sub_op', '@skip': true, payload: { value: 'skipped' } },
        { operation: 'sub_op', payload: { value: 'two' } },
      ],
    })
    const done = await t.finished(requested.id)

    expect(done.status).toBe('successful')
    expect(done.workflowVersion).toBe('builtin')
    const topic = `te/device/main///cmd/sub_op/sub:device_profile:${requested.cmdId}`
    await vi.waitFor(() => expect(sub.messages.filter((m) => m.payload === '').length).toBe(2))
    const states = sub.messages.filter((m) => m.topic === topic).map((m) => parse(m.payload))
    const inits = states.filter((s) => s !== '' && s.status === 'init')
    expect(inits).toEqual([
      { status: 'init', value: 'one' },
      { status: 'init', value: 'two' },
    ])
    expect(
      states.filter((s) => s !== '' && s.status === 'successful').map((s) => s !== '' && s.result),
    ).toEqual(['one-done', 'two-done'])
    await vi.waitFor(async () => {
      const { twin } = await t.json<EntityDetail>(`/api/v1/entities/${MAIN}`)
      expect(twin.device_profile?.value).toEqual({ name: 'line-profile', version: '7' })
    })
  })

  it('fails device_profile at the failing sub-operation, leaving twin/device_profile as it was', async () => {
    const requested = await t.request(MAIN, 'device_profile', {
      name: 'bad-profile',
      version: '1',
      operations: [
        { operation: 'sub_op', payload: { value: 'fail' } },
        { operation: 'sub_op', payload: {} },
      ],
    })
    const done = await t.finished(requested.id)
    expect(statuses(done)).toEqual([
      'init',
      'scheduled',
      'executing',
      'next_operation',
      'apply_operation',
      'awaiting_operation',
      'failed',
    ])
    expect(done.reason).toBe('sub-operation refused fail')
    const { twin } = await t.json<EntityDetail>(`/api/v1/entities/${MAIN}`)
    expect((twin.device_profile?.value as Payload | undefined)?.name).not.toBe('bad-profile')
  })

  it('refuses a second init on an active topic (te/errors) while the command goes on', async () => {
    const client = await t.client()
    const errors = await collect(client, 'te/errors')
    const topic = 'te/device/main///cmd/gate_op/twice'
    const states = await collect(client, topic)
    const gate = path.join(t.scriptsDir, 'gate-open')
    await client.publishAsync(topic, JSON.stringify({ status: 'init', gate }), { qos: 1, retain: true })
    const tracked = await t.tracked('gate_op', 'twice')
    await vi.waitFor(async () => expect((await t.detail(tracked.id)).log).toContain('stdout: waiting'))

    await client.publishAsync(topic, JSON.stringify({ status: 'init', gate: '/elsewhere', extra: 1 }), {
      qos: 1,
      retain: true,
    })
    const error = await errors.next((m) => m.payload.includes(topic))
    expect(JSON.parse(error.payload)).toMatchObject({
      topic,
      error: 'Two concurrent requests are under execution on the same topic',
    })

    writeFileSync(gate, '')
    const done = await t.finished(tracked.id)
    expect(statuses(done)).toEqual(['init', 'successful'])
    expect(done.payload.gate).toBe(gate)
    expect(done.payload).not.toHaveProperty('extra')
    // Published once the command ended: the last state on the topic is the first command's.
    const last = await states.next(
      (m) => parse(m.payload) !== '' && (parse(m.payload) as Payload).status === 'successful',
    )
    expect(parse(last.payload)).toMatchObject({ gate })
  })

  it('keeps unknown fields of the init payload in every state', async () => {
    const client = await t.client()
    const topic = 'te/device/main///cmd/parent_op/custom-fields'
    const states = await collect(client, topic)
    const custom = { deep: [1, { x: null }], flag: true }
    await client.publishAsync(
      topic,
      JSON.stringify({ status: 'init', value: 'v', custom, note: 'keep me', '@origin': 'cloud' }),
      { qos: 1, retain: true },
    )
    const tracked = await t.tracked('parent_op', 'custom-fields')
    const done = await t.finished(tracked.id)

    expect(statuses(done)).toEqual(['init', 'executing', 'awaiting', 'successful'])
    for (const state of done.states) {
      expect(state.payload).toMatchObject({ custom, note: 'keep me', '@origin': 'cloud', value: 'v' })
    }
    await states.next((m) => m.payload.includes('"successful"'))
    for (const message of states.messages) {
      expect(parse(message.payload)).toMatchObject({ custom, note: 'keep me', '@origin': 'cloud' })
    }
    // Another client requested it: the topic stays for that requester to clear.
    expect(states.messages.at(-1)?.payload).toContain('"successful"')
    await client.publishAsync(topic, '', { qos: 1, retain: true })
    await states.next((m) => m.payload === '')
  })

  it("tracks the commands of another device's agent without running them", async () => {
    const client = await t.client()
    await client.publishAsync('te/device/watched//', JSON.stringify({ '@type': 'child-device' }), {
      qos: 1,
      retain: true,
    })
    const topic = 'te/device/watched///cmd/gate_op/c1'
    const states = await collect(client, topic)
    const publish = (payload: Payload) =>
      client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: true })

    await publish({ status: 'init', gate: '/nowhere' })
    const tracked = await t.tracked('gate_op', 'c1')
    expect(tracked).toMatchObject({ entity: 'device/watched//', executor: 'external', requestedBy: null })
    await publish({ status: 'executing', gate: '/nowhere' })
    await publish({ status: 'successful', gate: '/nowhere' })
    const done = await t.finished(tracked.id)

    expect(statuses(done)).toEqual(['init', 'executing', 'successful'])
    expect(done.workflowVersion).toBeNull()
    expect(done.log).toBeNull()
    // Only what the test published, up to its own clear as the requester: EdgeTwin neither executed
    // nor cleared it.
    await states.next((m) => m.payload.includes('"successful"'))
    await client.publishAsync(topic, '', { qos: 1, retain: true })
    await states.next((m) => m.payload === '')
    expect(
      states.messages.map((m) => (m.payload === '' ? '' : (parse(m.payload) as Payload).status)),
    ).toEqual(['init', 'executing', 'successful', ''])
    for (const state of done.states) expect(state.payload).not.toHaveProperty('@version')
  })

  it('clears the topic of a command it requested once the other agent finished it', async () => {
    const client = await t.client()
    await client.publishAsync('te/device/child9//', JSON.stringify({ '@type': 'child-device' }), {
      qos: 1,
      retain: true,
    })
    await client.publishAsync('te/device/child9///cmd/calibrate', '{}', { qos: 1, retain: true })
    const child = encodeURIComponent('device/child9//')
    await vi.waitFor(async () =>
      expect((await t.json<EntityDetail>(`/api/v1/entities/${child}`)).capabilities).toHaveProperty(
        'calibrate',
      ),
    )
    const commands = await collect(client, 'te/device/child9///cmd/calibrate/+')

    const requested = await t.request(child, 'calibrate', { axis: 'z' })
    expect(requested).toMatchObject({ executor: 'external', requestedBy: 'api', status: 'init' })
    const topic = `te/device/child9///cmd/calibrate/${requested.cmdId}`
    const init = await commands.next((m) => m.topic === topic)
    expect(parse(init.payload)).toEqual({ status: 'init', axis: 'z' })

    // The child's agent does the work.
    for (const status of ['executing', 'successful'])
      await client.publishAsync(topic, JSON.stringify({ status, axis: 'z', offset: 0.5 }), {
        qos: 1,
        retain: true,
      })
    await commands.next((m) => m.topic === topic && m.payload === '')
    const done = await t.detail(requested.id)
    expect(done.status).toBe('successful')
    expect(statuses(done)).toEqual(['init', 'executing', 'successful'])
    expect(done.payload).toMatchObject({ offset: 0.5 })
    expect(commands.messages.filter((m) => m.topic === topic).map((m) => m.payload)).toEqual([
      init.payload,
      JSON.stringify({ status: 'executing', axis: 'z', offset: 0.5 }),
      JSON.stringify({ status: 'successful', axis: 'z', offset: 0.5 }),
      '',
    ])
    expect(await t.core.parts.bus.retained(topic)).toEqual([])
  })

  it('awaits sub-operations another component executes, clearing each before the next reuses the topic', async () => {
    const client = await t.client()
    // A component beside EdgeTwin owns ext_op on the main device: it declares it and runs its commands.
    await client.publishAsync('te/device/main///cmd/ext_op', '{}', { qos: 1, retain: true })
    await vi.waitFor(async () =>
      expect((await t.json<EntityDetail>(`/api/v1/entities/${MAIN}`)).capabilities).toHaveProperty('ext_op'),
    )
    const commands = await collect(client, 'te/device/main///cmd/ext_op/+')
    client.on('message', (topic, payload) => {
      const command = parse(payload.toString())
      if (!topic.startsWith('te/device/main///cmd/ext_op/') || command === '' || command.status !== 'init')
        return
      for (const status of ['executing', 'successful']) {
        const state = { ...command, status, applied: command.step }
        void client.publishAsync(topic, JSON.stringify(state), { qos: 1, retain: true })
      }
    })

    const requested = await t.request(MAIN, 'device_profile', {
      name: 'external-profile',
      version: '1',
      operations: [
        { operation: 'ext_op', payload: { step: 1 } },
        { operation: 'ext_op', payload: { step: 2 } },
      ],
    })
    const done = await t.finished(requested.id)
    expect(done.status).toBe('successful')

    const topic = `te/device/main///cmd/ext_op/sub:device_profile:${requested.cmdId}`
    await vi.waitFor(() => expect(commands.messages.filter((m) => m.payload === '').length).toBe(2))
    expect(commands.messages.map((m) => parse(m.payload)).map((p) => (p === '' ? '' : p.status))).toEqual([
      'init',
      'executing',
      'successful',
      '',
      'init',
      'executing',
      'successful',
      '',
    ])
    expect(commands.messages.every((m) => m.topic === topic)).toBe(true)
    expect(await t.core.parts.bus.retained(topic)).toEqual([])
    const subs = (await t.operations('ext_op')).filter((o) => o.parent === requested.id)
    expect(subs.map((o) => [o.executor, o.status, o.payload.applied])).toEqual([
      ['external', 'successful', 2],
      ['external', 'successful', 1],
    ])
  })
})
