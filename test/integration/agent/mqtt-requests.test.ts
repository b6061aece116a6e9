// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates in workflows
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntryView } from '../../../src-main/core/api/types'
import { MAIN, startWorkflowCore, type WorkflowCore } from '../../fixtures/workflows/harness'
import { collect } from '../../helpers/core'

// Commands a local MQTT client publishes: audited like the UI's and the API's (the actor is the
// client id), and checked at the agent's edge before any script, plugin or transfer runs.

let t: WorkflowCore
let recorded: string
let mapper: MqttClient

beforeAll(async () => {
  t = await startWorkflowCore(({ workflow, script, scriptsDir }) => {
    recorded = path.join(scriptsDir, 'recorded')
    const record = script('record', `printf '%s\\n' "$@" >>${JSON.stringify(recorded)}`)
    // Each field goes to the script as one argument: what reaches it is what the check let through.
    workflow(
      'firmware_update.toml',
      [
        'operation = "firmware_update"',
        '[init]',
        'action = "proceed"',
        'on_success = "executing"',
        '[executing]',
        `script = "${record} \${.payload.name} \${.payload.version} \${.payload.remoteUrl}"`,
        'on_success = "successful"',
      ].join('\n'),
    )
  })
  mapper = await t.client({ clientId: 'line-mapper' })
})

afterAll(async () => {
  await t.stop()
})

/** Publishes a command as a client does and resolves with its terminal state as published. */
async function publish(operation: string, cmdId: string, payload: Record<string, unknown>) {
  const topic = `te/device/main///cmd/${operation}/${cmdId}`
  const states = await collect(mapper, topic)
  await mapper.publishAsync(topic, JSON.stringify(payload), { retain: true, qos: 1 })
  const done = await states.next((m) => /"status":"(successful|failed)"/.test(m.payload), 10_000)
  await mapper.publishAsync(topic, '', { retain: true, qos: 1 })
  return JSON.parse(done.payload) as Record<string, unknown>
}

const audit = () => t.json<AuditEntryView[]>(`/api/v1/audit?entity=${MAIN}`)

describe('a command from a local MQTT client', () => {
  it('is audited with the client id as actor; EdgeTwin’s own requests keep theirs, once', async () => {
    const done = await publish('firmware_update', 'mapper-1', {
      status: 'init',
      name: 'core-image',
      version: '2.0.0',
      remoteUrl: 'http://files.example/core-image',
    })
    expect(done.status).toBe('successful')
    expect(readFileSync(recorded, 'utf8')).toBe('core-image\n2.0.0\nhttp://files.example/core-image\n')

    const fromApi = await t.request(MAIN, 'firmware_update', { name: 'core-image', version: '2.0.1' })
    expect((await t.finished(fromApi.id)).status).toBe('successful')

    const entries = await audit()
    expect(entries.filter((e) => e.target === 'firmware_update/mapper-1')).toMatchObject([
      {
        actor: 'mqtt:line-mapper',
        action: 'operation.request',
        before: null,
        after: { status: 'init', name: 'core-image', version: '2.0.0' },
      },
    ])
    expect(
      entries.filter((e) => e.target === `firmware_update/${fromApi.cmdId}`).map((e) => e.actor),
    ).toEqual(['api'])
  })

  it('fails with the reason when a field reads as an option, and nothing runs', async () => {
    const before = readFileSync(recorded, 'utf8')
    const done = await publish('firmware_update', 'mapper-2', {
      status: 'init',
      name: '-rf',
      version: '1',
      remoteUrl: 'http://files.example/x',
    })
    expect(done).toMatchObject({
      status: 'failed',
      reason: 'Invalid firmware_update command: name "-rf" starts with "-"',
    })
    expect(readFileSync(recorded, 'utf8')).toBe(before)
    // Refused, and still on record: who tried what.
    expect((await audit()).find((e) => e.target === 'firmware_update/mapper-2')).toMatchObject({
      actor: 'mqtt:line-mapper',
      after: { name: '-rf' },
    })
  })

  it('is checked too when it arrives in a later state, past init', async () => {
    const before = readFileSync(recorded, 'utf8')
    const done = await publish('firmware_update', 'mapper-3', {
      status: 'executing',
      name: 'core-image',
      version: '1\nfake-backdoor\t6.6.6',
      remoteUrl: 'http://files.example/x',
    })
    expect(done.reason).toBe(
      'Invalid firmware_update command: version "1\\nfake-backdoor\\t6.6.6" contains a control character',
    )
    expect(readFileSync(recorded, 'utf8')).toBe(before)
    expect((await audit()).find((e) => e.target === 'firmware_update/mapper-3')?.actor).toBe(
      'mqtt:line-mapper',
    )
  })

  it('holds each entry of a device profile to its own operation’s rules', async () => {
    const done = await publish('device_profile', 'mapper-4', {
      status: 'init',
      name: 'prod',
      version: '7',
      operations: [
        {
          operation: 'software_update',
          payload: {
            updateList: [{ type: 'file', modules: [{ name: '--allow-unauthenticated', action: 'install' }] }],
          },
        },
      ],
    })
    expect(done.reason).toBe(
      'Invalid device_profile command: operations[0].payload.updateList[0].modules[0].name "--allow-unauthenticated" starts with "-"',
    )
    expect(await t.operations('software_update')).toEqual([])
  })

  it('is refused over HTTP with a 400 and the same reason', async () => {
    const response = await t.http(`/api/v1/entities/${MAIN}/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'firmware_update', payload: { name: 'img', version: '--force' } }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: 'Invalid firmware_update command: version "--force" starts with "-"',
    })
    expect(existsSync(recorded)).toBe(true)
  })
})
