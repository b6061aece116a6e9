// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates are what these tests are about
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  CommandLineError,
  commandArgs,
  extractTedgeOutput,
  forcefulTimeoutExtensionMs,
  MAX_CAPTURE,
  runScript,
  signalNumber,
  splitCommandLine,
  startBackground,
} from '../../../src-main/core/agent/workflow/script'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'edgetwin-script-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Write an executable `/bin/sh` script into the temp dir. */
function script(name: string, body: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${body}\n`)
  chmodSync(file, 0o755)
  return file
}

/** Running, as opposed to gone or a zombie nobody reaped (PID 1 in a container may not). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

describe('splitCommandLine (shell-words)', () => {
  it.each([
    ['/some/script.sh arg1 "arg 2" \'arg 3\'', ['/some/script.sh', 'arg1', 'arg 2', 'arg 3']],
    ["sh -c 'sleep 10'", ['sh', '-c', 'sleep 10']],
    [`python -c "print('Hello world!')"`, ['python', '-c', "print('Hello world!')"]],
    ['   a  \t b \n c  ', ['a', 'b', 'c']],
    ["''", ['']],
    ['empty "" \'\' x', ['empty', '', '', 'x']],
    ['a"b c"\'d e\'f', ['ab cd ef']],
    ['"\\$ \\` \\" \\\\ \\a"', ['$ ` " \\ \\a']],
    ["'\\' x", ['\\', 'x']],
    ['\\|\\&\\; \\"', ['|&;', '"']],
    ['a\\\nb', ['ab']],
    ['x # comment', ['x']],
    ['w1#w2', ['w1#w2']],
    ['a # one\n b # two', ['a', 'b']],
    ['a\\', ['a\\']],
    ['\\', ['\\']],
    ['', []],
    ['${.payload.x} "${.payload.y}"', ['${.payload.x}', '${.payload.y}']],
  ])('splits %j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words)
  })

  it.each(["'abc", '"', "'\\", '"abc\\'])('rejects the unclosed quote of %j', (line) => {
    expect(() => splitCommandLine(line)).toThrow(CommandLineError)
    expect(() => splitCommandLine(line)).toThrow('missing closing quote')
  })
})

describe('commandArgs', () => {
  it('splits before expanding, so a value with spaces stays one argument', () => {
    const ctx = {
      topic: 'te/device/main///cmd/device_profile/c8y-1',
      root: 'te',
      target: 'device/main//',
      operation: 'device_profile',
      cmdId: 'c8y-1',
      payload: { name: 'prod profile', version: 'v2', mapperType: 'c8y' },
    }
    expect(commandArgs('sudo systemctl restart tedge-mapper-${.payload.mapperType}', ctx)).toEqual([
      'sudo',
      'systemctl',
      'restart',
      'tedge-mapper-c8y',
    ])
    expect(
      commandArgs(
        `tedge mqtt pub -r \${.topic.root_prefix}/\${.topic.target}/twin/device_profile  '{ "name": "\${.payload.name}", "version": "\${.payload.version}" }'`,
        ctx,
      ),
    ).toEqual([
      'tedge',
      'mqtt',
      'pub',
      '-r',
      'te/device/main///twin/device_profile',
      '{ "name": "prod profile", "version": "v2" }',
    ])
  })
})

describe('extractTedgeOutput', () => {
  it('decodes the first block between marker lines', () => {
    const stdout =
      'log\n:::begin-tedge:::\n{"a":1}\n:::end-tedge:::\nmore\n:::begin-tedge:::\n{"a":2}\n:::end-tedge:::\n'
    expect(extractTedgeOutput(stdout)).toEqual({ kind: 'json', value: { a: 1 } })
  })

  it('needs both markers on their own lines', () => {
    expect(extractTedgeOutput('{"a":1}')).toEqual({ kind: 'none' })
    expect(extractTedgeOutput(':::begin-tedge:::{"a":1}\n:::end-tedge:::')).toEqual({ kind: 'none' })
    expect(extractTedgeOutput(':::begin-tedge:::\n{"a":1}')).toEqual({ kind: 'none' })
  })

  it('reports JSON it cannot decode', () => {
    const output = extractTedgeOutput(':::begin-tedge:::\n{foo:bar}\n:::end-tedge:::')
    expect(output.kind).toBe('invalid')
    expect(output.kind === 'invalid' && output.error).toMatch(/^is not valid JSON: /)
  })
})

describe('runScript', () => {
  it('returns the exit code, stdout and stderr, and streams them as they come', async () => {
    const seen: string[] = []
    const result = await runScript(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], {
      onOutput: (stream, text) => seen.push(`${stream}:${text}`),
    })
    expect(result.exit).toEqual({ kind: 'exited', code: 3 })
    expect(result.program).toBe('/bin/sh')
    expect(result.stdout).toBe('out\n')
    expect(result.stderr).toBe('err\n')
    expect(seen).toEqual(expect.arrayContaining(['stdout:out\n', 'stderr:err\n']))
  })

  it('runs without a shell, in the given directory and environment, with stdin closed', async () => {
    const file = script('args.sh', 'printf "%s|" "$@"; printf "%s|%s|" "$PWD" "$EDGETWIN_X"; cat')
    const result = await runScript([file, 'a b', '$HOME', '*'], { cwd: dir, env: { EDGETWIN_X: 'x' } })
    expect(result.exit).toEqual({ kind: 'exited', code: 0 })
    expect(result.stdout).toBe(`a b|$HOME|*|${dir}|x|`)
  })

  it('parses the tedge block into `output`', async () => {
    const result = await runScript([
      '/bin/sh',
      '-c',
      'echo noise; echo :::begin-tedge:::; echo \'{"status":"next","x":[1]}\'; echo :::end-tedge:::',
    ])
    expect(result.output).toEqual({ status: 'next', x: [1] })
    expect(result.outputError).toBeUndefined()
  })

  it('says why there is no output', async () => {
    const none = await runScript(['/bin/sh', '-c', 'echo garbage'])
    expect(none.output).toBeUndefined()
    expect(none.outputError).toBe('contains no :::tedge::: content')
    const invalid = await runScript([
      '/bin/sh',
      '-c',
      'printf ":::begin-tedge:::\\n{foo:bar}\\n:::end-tedge:::\\n"',
    ])
    expect(invalid.outputError).toMatch(/^is not valid JSON: /)
    const scalar = await runScript(['/bin/sh', '-c', 'printf ":::begin-tedge:::\\n42\\n:::end-tedge:::\\n"'])
    expect(scalar.outputError).toBe('is not a JSON object')
  })

  it('finds the block across output chunks and keeps only the tail of a huge output', async () => {
    const result = await runScript([
      '/bin/sh',
      '-c',
      'echo :::begin-tedge:::; echo \'{"ok":true}\'; echo :::end-tedge:::; head -c 1200000 /dev/zero | tr "\\0" a; echo END',
    ])
    expect(result.output).toEqual({ ok: true })
    expect(result.stdout.length).toBe(MAX_CAPTURE)
    expect(result.stdout.endsWith('aaaEND\n')).toBe(true)
  })

  it('reports a program killed by a signal', async () => {
    const result = await runScript(['/bin/sh', '-c', 'kill -9 $$'])
    expect(result.exit).toEqual({ kind: 'killed', signal: 'SIGKILL' })
  })

  it('terminates a script past its timeout, with what it started', async () => {
    const pidFile = path.join(dir, 'grandchild.pid')
    const file = script('slow.sh', `sleep 30 &\necho $! > ${pidFile}\nwait`)
    const result = await runScript([file], { timeoutMs: 300 })
    expect(result.exit).toEqual({ kind: 'timeout' })
    const grandchild = Number(readFileSync(pidFile, 'utf8'))
    await vi.waitFor(() => expect(isAlive(grandchild)).toBe(false))
  })

  it('kills with SIGKILL a script that ignores SIGTERM, after the grace period', async () => {
    const file = script('stubborn.sh', "trap '' TERM\necho ready\nwhile :; do sleep 0.05; done")
    const started = Date.now()
    const result = await runScript([file], { timeoutMs: 200, killGraceMs: 200 })
    expect(result.exit).toEqual({ kind: 'timeout' })
    expect(result.stdout).toBe('ready\n')
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
  })

  it('is killed on abort', async () => {
    const abort = new AbortController()
    const running = runScript(['/bin/sh', '-c', 'echo started; exec sleep 30'], {
      signal: abort.signal,
      onOutput: () => abort.abort(),
    })
    const result = await running
    expect(result.exit).toEqual({ kind: 'killed', signal: 'SIGTERM' })
    expect(result.stdout).toBe('started\n')
  })

  it('does not start when already aborted', async () => {
    const abort = new AbortController()
    abort.abort()
    const result = await runScript(['sleep', '30'], { signal: abort.signal })
    expect(result.exit).toEqual({ kind: 'killed', signal: 'SIGTERM' })
  })

  it('reports a program that cannot be started', async () => {
    const missing = await runScript(['/nonexistent/firmware_handler.sh', 'plan'])
    expect(missing.exit).toEqual({ kind: 'spawn-failed', error: expect.stringContaining('ENOENT') })
    expect(missing.program).toBe('/nonexistent/firmware_handler.sh')
    const file = path.join(dir, 'not-executable.sh')
    writeFileSync(file, '#!/bin/sh\n')
    const denied = await runScript([file])
    expect(denied.exit).toEqual({ kind: 'spawn-failed', error: expect.stringContaining('EACCES') })
    expect((await runScript([])).exit).toEqual({ kind: 'spawn-failed', error: 'empty command line' })
  })
})

describe('startBackground', () => {
  it('starts a detached program writing to a log file and returns at once', async () => {
    const log = path.join(dir, 'background.log')
    const started = startBackground(['/bin/sh', '-c', 'echo "bg $0"; echo oops >&2', 'arg0'], {
      logFile: log,
    })
    expect(started).toEqual({ pid: expect.any(Number) })
    await vi.waitFor(() => expect(readFileSync(log, 'utf8')).toBe('bg arg0\noops\n'))
  })

  it('discards the output without a log file', async () => {
    const marker = path.join(dir, 'marker')
    const started = startBackground(['/bin/sh', '-c', `echo noise; touch ${marker}`])
    expect('pid' in started).toBe(true)
    await vi.waitFor(() => expect(existsSync(marker)).toBe(true))
  })

  it('reports a program that cannot be started', () => {
    expect(startBackground(['/nonexistent/reboot.sh'])).toEqual({
      error: 'spawn /nonexistent/reboot.sh ENOENT',
    })
    expect(startBackground(['no-such-program-edgetwin'])).toEqual({
      error: 'spawn no-such-program-edgetwin ENOENT',
    })
    const file = path.join(dir, 'plain.txt')
    writeFileSync(file, 'x')
    expect(startBackground([file])).toEqual({ error: `spawn ${file} EACCES` })
  })
})

describe('thin-edge numbers', () => {
  it('gives the SIGKILL delay after a timeout as max(60 s, timeout / 20)', () => {
    expect(forcefulTimeoutExtensionMs(15)).toBe(60_000)
    expect(forcefulTimeoutExtensionMs(1600)).toBe(80_000)
  })

  it('numbers signals as thin-edge prints them', () => {
    expect(signalNumber('SIGTERM')).toBe(15)
    expect(signalNumber('SIGKILL')).toBe(9)
    expect(signalNumber('SIGNOPE')).toBe(0)
  })
})
