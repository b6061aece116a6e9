import { describe, expect, it } from 'vitest'
import { parseWorkflow } from '../../../src-main/core/agent/workflow/definition'
import type { StateDefinition, WorkflowDefinition } from '../../../src-main/core/agent/workflow/model'
import { runScript, splitCommandLine } from '../../../src-main/core/agent/workflow/script'
import {
  builtinActionTransition,
  inputScriptOutput,
  scriptTransition,
} from '../../../src-main/core/agent/workflow/transitions'

// These follow thin-edge.io's handlers.rs tests: a real TOML state, a real process, the next state.

function workflowWith(step: string, top = ''): { workflow: WorkflowDefinition; state: StateDefinition } {
  const workflow = parseWorkflow(`operation = "check"\n${top}\n[init]\n${step}\n`, 'check.toml')
  const state = workflow.states.get('init')
  if (workflow.invalid || !state) throw new Error(workflow.invalid)
  return { workflow, state }
}

async function outcome(step: string, top = '') {
  const { workflow, state } = workflowWith(step, top)
  if (state.action.kind !== 'script') throw new Error('not a script')
  const result = await runScript(splitCommandLine(state.action.command), { timeoutMs: 200, killGraceMs: 200 })
  return scriptTransition(state, workflow, result)
}

/** A command line printing `json` between the tedge markers, then exiting. */
const printing = (json: string, exit = 0) =>
  `sh -c "echo :::begin-tedge:::; echo '${json.replaceAll('"', '\\"')}'; echo :::end-tedge:::; exit ${exit}"`
/** The same as a TOML literal string. */
const tedge = (json: string, exit = 0) => `'''${printing(json, exit)}'''`

describe('scriptTransition', () => {
  it('follows the exit code: on_exit.N, ranges and on_exit._', async () => {
    const handlers = 'on_exit.0 = "zero"\non_exit.1 = "one"\non_exit.3-5 = "3-5"\non_exit._ = "wildcard"'
    expect(await outcome(`script = "sh -c 'exit 0'"\n${handlers}`)).toEqual({ status: 'zero' })
    expect(await outcome(`script = "sh -c 'exit 1'"\n${handlers}`)).toEqual({ status: 'one' })
    expect(await outcome(`script = "sh -c 'exit 4'"\n${handlers}`)).toEqual({ status: '3-5' })
    // thin-edge gives unlisted codes its own reason, replacing the handler's.
    expect(await outcome(`script = "sh -c 'exit 6'"\n${handlers}`)).toEqual({
      status: 'wildcard',
      reason: 'sh returned exit code 6',
    })
  })

  it('fails by default, with the program and code or signal in the reason', async () => {
    expect(await outcome(`script = "sh -c 'exit 1'"\non_success = "ok"`)).toEqual({
      status: 'failed',
      reason: 'sh returned exit code 1',
    })
    expect(await outcome(`script = "sh -c 'kill -9 $$'"\non_success = "ok"`)).toEqual({
      status: 'failed',
      reason: 'sh killed by signal 9',
    })
  })

  it('uses the workflow on_error, then on_kill', async () => {
    expect(await outcome(`script = "sh -c 'exit 2'"\non_success = "ok"`, 'on_error = "broken"')).toEqual({
      status: 'broken',
      reason: 'sh returned exit code 2',
    })
    expect(await outcome(`script = "sh -c 'kill -9 $$'"\non_kill = "killed"`)).toEqual({ status: 'killed' })
  })

  it('treats a timeout as a kill by SIGTERM, as tedge_script_ext does', async () => {
    expect(await outcome(`script = "sleep 5"\non_success = "ok"\non_timeout = "unused"`)).toEqual({
      status: 'failed',
      reason: 'sleep killed by signal 15',
    })
    expect(
      await outcome(`script = "sleep 5"\non_kill = { status = "stopped", reason = "too slow" }`),
    ).toEqual({
      status: 'stopped',
      reason: 'too slow',
    })
  })

  it('goes to on_error when the program cannot start', async () => {
    expect(
      await outcome(`script = "/nonexistent/x.sh"\non_error = { status = "oops", reason = "no script" }`),
    ).toEqual({ status: 'oops', reason: 'no script' })
    const failed = await outcome(`script = "/nonexistent/x.sh"\non_success = "ok"`)
    expect(failed.status).toBe('failed')
    expect(failed.reason).toMatch(/^Failed to launch \/nonexistent\/x.sh: .*ENOENT/)
  })

  it('injects the stdout fields on success; the handler status wins, the stdout reason wins', async () => {
    expect(await outcome(`script = ${tedge('{"foo": "bar"}')}\non_success = "yeah"`)).toEqual({
      status: 'yeah',
      fields: { foo: 'bar' },
    })
    expect(
      await outcome(`script = ${tedge('{"status": "failed", "foo": "bar"}')}\non_success = "yeah"`),
    ).toEqual({
      status: 'yeah',
      fields: { foo: 'bar' },
    })
    expect(
      await outcome(`script = "sh -c 'echo plain'"\non_success = { status = "yeah", reason = "r" }`),
    ).toEqual({
      status: 'yeah',
      reason: 'r',
    })
  })

  it('injects the stdout of an expected exit code, and only its reason otherwise', async () => {
    const expected = tedge('{"status": "failed", "reason": "expected", "foo": "bar"}', 1)
    expect(
      await outcome(`script = ${expected}\non_exit.1 = { status = "exit_1", reason = "exit 1" }`),
    ).toEqual({
      status: 'exit_1',
      reason: 'expected',
      fields: { foo: 'bar' },
    })
    const staticReason = tedge('{"foo": "bar"}', 1)
    expect(
      await outcome(`script = ${staticReason}\non_exit.1 = { status = "exit_1", reason = "exit 1" }`),
    ).toEqual({
      status: 'exit_1',
      reason: 'exit 1',
      fields: { foo: 'bar' },
    })
    const unexpected = tedge('{"reason": "No such file or directory", "foo": "bar"}', 1)
    expect(await outcome(`script = ${unexpected}\non_error = "oops"`)).toEqual({
      status: 'oops',
      reason: 'No such file or directory',
    })
  })

  it('lets the stdout choose the next state among on_stdout', async () => {
    const choose = (status: string) => tedge(`{"status": "${status}", "reason": "why", "n": 1}`)
    expect(await outcome(`script = ${choose('next')}\non_stdout = ["next", "other"]`)).toEqual({
      status: 'next',
      reason: 'why',
      fields: { n: 1 },
    })
    expect(await outcome(`script = ${choose('elsewhere')}\non_stdout = ["next"]\non_error = "bad"`)).toEqual({
      status: 'bad',
      reason: 'Program `sh` stdout status "elsewhere" is not one of on_stdout',
    })
    expect(await outcome(`script = ${tedge('{"n": 1}')}\non_stdout = ["next"]`)).toEqual({
      status: 'failed',
      reason: 'Program `sh` stdout gives no status',
    })
    expect(await outcome(`script = "sh -c 'echo {}'"\non_stdout = ["next"]`)).toEqual({
      status: 'failed',
      reason: 'Program `sh` stdout contains no :::tedge::: content',
    })
    const invalid = await outcome(`script = ${tedge('x')}`)
    expect(invalid.status).toBe('failed')
    expect(invalid.reason).toMatch(/^Program `sh` stdout is not valid JSON: /)
  })
})

describe('builtinActionTransition', () => {
  it('moves on with the fields of a successful action', () => {
    const { workflow, state } = workflowWith('action = "download"\non_success = "install"')
    expect(
      builtinActionTransition(state, workflow, { ok: true, fields: { downloadedPath: '/tmp/f' } }),
    ).toEqual({
      status: 'install',
      fields: { downloadedPath: '/tmp/f' },
    })
  })

  it("names the action in the failure reason, over the handler's", () => {
    const { workflow, state } = workflowWith(
      'action = "builtin:config_update:set"\non_error = { status = "rollback", reason = "ignored" }',
    )
    expect(builtinActionTransition(state, workflow, { ok: false, error: 'denied' })).toEqual({
      status: 'rollback',
      reason: "builtin 'builtin:config_update:set' action failed with: denied",
    })
    const download = workflowWith('action = "download"', 'on_error = "not_for_downloads"')
    expect(builtinActionTransition(download.state, download.workflow, { ok: false, error: '404' })).toEqual({
      status: 'failed',
      reason: "builtin 'download' action failed with: 404",
    })
  })
})

describe('inputScriptOutput', () => {
  it('gives the JSON of a successful input script', async () => {
    const result = await runScript(splitCommandLine(printing('{"type": "mosquitto"}')))
    expect(inputScriptOutput(result)).toEqual({ ok: true, value: { type: 'mosquitto' } })
  })

  it("explains a failing input script in thin-edge's words", async () => {
    const run = async (line: string) => inputScriptOutput(await runScript(splitCommandLine(line)))
    expect(await run("sh -c 'exit 1'")).toEqual({ ok: false, reason: 'Program `sh` failed with exit code 1' })
    expect(await run("sh -c 'kill -11 $$'")).toEqual({
      ok: false,
      reason: 'Program `sh` has been killed by SIG11',
    })
    expect(await run("sh -c 'echo garbage'")).toEqual({
      ok: false,
      reason: 'Program `sh` stdout contains no :::tedge::: content',
    })
    const missing = await run('/bin/user-script')
    expect(missing).toEqual({
      ok: false,
      reason: expect.stringMatching(/^Program `\/bin\/user-script` cannot be launched: /),
    })
  })
})
