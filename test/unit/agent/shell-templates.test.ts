// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates are what these tests are about
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseWorkflow } from '../../../src-main/core/agent/workflow/definition'
import { WorkflowRegistry } from '../../../src-main/core/agent/workflow/registry'
import {
  shellTemplateWarnings,
  templatesInShellString,
} from '../../../src-main/core/agent/workflow/shell-templates'

describe('templates inside a shell’s -c string', () => {
  it('finds the command’s values a shell would parse', () => {
    expect(templatesInShellString(`sh -c 'echo \${.payload.name} > /tmp/out'`)).toEqual(['${.payload.name}'])
    expect(templatesInShellString(`/bin/bash -ec "x=\${.payload.a}; y=\${.topic.cmd_id}"`)).toEqual([
      '${.payload.a}',
      '${.topic.cmd_id}',
    ])
    expect(templatesInShellString(`sudo env A=1 bash -o pipefail -c "run \${.payload}"`)).toEqual([
      '${.payload}',
    ])
    expect(templatesInShellString(`busybox sh -c 'x \${.}'`)).toEqual(['${.}'])
  })

  it('leaves alone what no shell parses: argv words, values after the string, fixed templates', () => {
    // The recommended form: the value is the shell's $1, never part of its text.
    expect(templatesInShellString(`sh -c 'echo "$1"' sh \${.payload.name}`)).toEqual([])
    expect(templatesInShellString(`/usr/bin/apply \${.payload.name} \${.payload.version}`)).toEqual([])
    expect(templatesInShellString(`sh ./handler.sh -c \${.payload.name}`)).toEqual([])
    expect(
      templatesInShellString(`sh -c 'tedge mqtt pub \${.topic.root_prefix}/x/\${.topic.operation}'`),
    ).toEqual([])
    expect(templatesInShellString(`sh -c "unclosed`)).toEqual([])
  })

  it('warns per state, for scripts and input scripts', () => {
    const workflow = parseWorkflow(
      [
        'operation = "deploy"',
        '[init]',
        `script = "sh -c 'deploy \${.payload.app}'"`,
        'on_success = "executing"',
        '[executing]',
        'operation = "software_update"',
        `input_script = "bash -c 'echo \${.payload.list}'"`,
        'on_exec = "waiting"',
        '[waiting]',
        'action = "await-operation-completion"',
        'on_success = "successful"',
      ].join('\n'),
      'deploy.toml',
    )
    expect(workflow.invalid).toBeUndefined()
    expect(shellTemplateWarnings(workflow).map((w) => [w.state, w.templates])).toEqual([
      ['init', ['${.payload.app}']],
      ['executing', ['${.payload.list}']],
    ])
  })

  it('is logged when the workflow file is loaded, which still loads', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-shell-'))
    try {
      const operations = path.join(dir, 'operations')
      mkdirSync(operations)
      writeFileSync(
        path.join(operations, 'greet.toml'),
        `operation = "greet"\n[init]\nscript = "sh -c 'echo hello \${.payload.who}'"\non_success = "successful"\n`,
      )
      const lines: Array<{ level: number; msg: string; state?: string; source?: string }> = []
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
      const db = new Database(':memory:')
      const registry = new WorkflowRegistry({ dir: operations, db, builtins: new Map(), logger })
      registry.start()
      db.close()
      expect(registry.get('greet')?.invalid).toBeUndefined()
      const warning = lines.find((l) => l.level === 40)
      expect(warning).toMatchObject({ state: 'init', source: path.join(operations, 'greet.toml') })
      expect(warning?.msg).toBe(
        'workflow greet: state "init" runs a shell with -c and expands ${.payload.who} inside its command ' +
          'string: a command can make that shell run anything. Pass the value as an argument after the ' +
          'string instead: sh -c \'… "$1" …\' sh ${.payload.who}',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
