import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  collectLog,
  ensureLogPluginFile,
  expandGlob,
  type LogRequest,
  loadLogPlugin,
  logEntriesFor,
  logPluginFilePath,
  logTypes,
  parseLogPluginToml,
} from '../../../src-main/core/agent/logs'

describe('tedge-log-plugin.toml', () => {
  it('reads type and path (a glob allowed), several entries per type', () => {
    const config = parseLogPluginToml(
      [
        'files = [',
        "  { type = 'mosquitto', path = '/var/log/mosquitto/mosquitto.log' },",
        "  { type = 'software-management', path = '/var/log/tedge/agent/software-*' },",
        "  { type = 'mosquitto', path = '/var/log/mosquitto/mosquitto.log.1' },",
        ']',
        '[[plugins.journald.filters]]',
        'include = "ssh"',
      ].join('\n'),
    )
    expect(config.warnings).toEqual([])
    expect(logTypes(config)).toEqual(['mosquitto', 'software-management'])
    expect(logEntriesFor(config, 'mosquitto').map((e) => e.path)).toEqual([
      '/var/log/mosquitto/mosquitto.log',
      '/var/log/mosquitto/mosquitto.log.1',
    ])
  })

  it('skips a wrong entry with a warning, and reads nothing from malformed TOML', () => {
    const config = parseLogPluginToml(
      [
        '[[files]]\ntype = "ok"\npath = "/var/log/ok.log"',
        '[[files]]\npath = "/var/log/untyped.log"',
        '[[files]]\ntype = "x"\npath = "/x"\nlines = 5',
      ].join('\n'),
    )
    expect(config.files).toEqual([{ type: 'ok', path: '/var/log/ok.log' }])
    expect(config.warnings).toEqual([
      "Skipping files[1]: 'type' must be a non-empty string",
      "Skipping files[2]: unknown field 'lines'",
    ])

    const malformed = parseLogPluginToml(
      'files = [ { type = "a", path = "/a" ',
      '/data/plugins/tedge-log-plugin.toml',
    )
    expect(malformed.files).toEqual([])
    expect(malformed.warnings[0]).toMatch(
      /^The config file \/data\/plugins\/tedge-log-plugin.toml is malformed: /,
    )
  })
})

describe('log files on disk', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-logs-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** Writes a file and sets its modification time, in seconds since 1970. */
  function logFile(name: string, content: string, mtime?: number): string {
    const file = path.join(dir, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
    if (mtime !== undefined) utimesSync(file, mtime, mtime)
    return file
  }

  const request = (extra: Partial<LogRequest> = {}): LogRequest => ({
    dateFrom: new Date(3000),
    dateTo: new Date(4000),
    lines: 1000,
    ...extra,
  })

  const fiveLines = (name: string) =>
    ['first', 'second', 'third', 'forth', 'fifth'].map((n) => `this is the ${n} line of ${name}.`).join('\n')

  it('writes the default file once: EdgeTwin’s log, the workflow logs and software-management', async () => {
    const file = logPluginFilePath(dir)
    expect(await loadLogPlugin(file)).toEqual({
      files: [],
      warnings: [`The config file ${file} does not exist or is not readable.`],
    })
    expect(await ensureLogPluginFile(dir)).toBe(true)
    expect(await ensureLogPluginFile(dir)).toBe(false)
    const config = await loadLogPlugin(file)
    expect(config).toEqual({
      files: [
        { type: 'edgetwin', path: path.join(dir, 'logs', 'edgetwin.log') },
        { type: 'workflow', path: path.join(dir, 'logs', 'workflow-*.log') },
        { type: 'software-management', path: path.join(dir, 'logs', 'workflow-software_*') },
      ],
      warnings: [],
    })

    logFile('logs/workflow-software_update-c8y-1.log', 'installed nodered\n')
    logFile('logs/workflow-restart-2.log', 'rebooting\n')
    const software = await collectLog(logEntriesFor(config, 'software-management'), request())
    expect(software).toBe('filename: workflow-software_update-c8y-1.log\ninstalled nodered\n')
  })

  it('expands * and ? within path segments, to regular files only', async () => {
    for (const name of [
      'a.log',
      'b.log',
      '.hidden.log',
      'ab.log',
      'x(1).log',
      'sub/c.log',
      'dir.log/inner',
    ]) {
      logFile(name, 'x\n')
    }
    const inDir = (...names: string[]) => names.map((n) => path.join(dir, n))
    expect(await expandGlob(path.join(dir, '*.log'))).toEqual(
      inDir('.hidden.log', 'a.log', 'ab.log', 'b.log', 'x(1).log'),
    )
    expect(await expandGlob(path.join(dir, '?.log'))).toEqual(inDir('a.log', 'b.log'))
    expect(await expandGlob(path.join(dir, '*', 'c.log'))).toEqual(inDir('sub/c.log'))
    expect(await expandGlob(path.join(dir, 'x(*).log'))).toEqual(inDir('x(1).log'))
    expect(await expandGlob(path.join(dir, 'nothing-*'))).toEqual([])
    expect(await expandGlob(path.join(dir, 'a.log'))).toEqual(inDir('a.log'))
    expect(await expandGlob(path.join(dir, 'missing.log'))).toEqual([])
  })

  it('takes glob matches modified since dateFrom, newest first, each after its name', async () => {
    logFile('file_a_one', fiveLines('file_a_one'), 2)
    logFile('file_b_one', fiveLines('file_b_one'), 3)
    logFile('file_c_two', fiveLines('file_c_two'), 11)
    logFile('file_d_one', fiveLines('file_d_one'), 100)

    const text = await collectLog({ type: 'type_one', path: path.join(dir, '*_one') }, request())

    expect(text).toBe(
      `filename: file_d_one\n${fiveLines('file_d_one')}\nfilename: file_b_one\n${fiveLines('file_b_one')}\n`,
    )
  })

  it('takes a plain path whatever its date, and leaves out empty files', async () => {
    const old = logFile('old.log', 'from 1970\r\nstill 1970', 1)
    const empty = logFile('empty.log', '', 50)
    const text = await collectLog(
      [
        { type: 'app', path: old },
        { type: 'app', path: empty },
      ],
      request(),
    )
    expect(text).toBe('filename: old.log\nfrom 1970\nstill 1970\n')
  })

  it('keeps the lines containing searchText, then the last N of them across the files', async () => {
    logFile('app-1.log', 'INFO start\nERROR disk full\nINFO retry\nERROR disk still full\n', 20)
    logFile('app-2.log', 'ERROR network down\nINFO ok\n', 30)
    const entry = { type: 'app', path: path.join(dir, 'app-*.log') }

    expect(await collectLog(entry, request({ searchText: 'ERROR' }))).toBe(
      'ERROR network down\nERROR disk full\nERROR disk still full\n',
    )
    // Newest file first, so the last lines are the oldest file's end (thin-edge.io's order).
    expect(await collectLog(entry, request({ lines: 3 }))).toBe(
      'ERROR disk full\nINFO retry\nERROR disk still full\n',
    )
    expect(await collectLog(entry, request({ lines: 2, searchText: 'ERROR' }))).toBe(
      'ERROR disk full\nERROR disk still full\n',
    )
    expect(await collectLog(entry, request({ lines: 0 }))).toBe(
      'filename: app-2.log\nERROR network down\nINFO ok\nfilename: app-1.log\nINFO start\nERROR disk full\nINFO retry\nERROR disk still full\n',
    )
    expect(await collectLog(entry, request({ searchText: 'nowhere' }))).toBe('')
  })

  it('says the log file does not exist when no file matches, or none is recent enough', async () => {
    await expect(
      collectLog({ type: 'mosquitto', path: path.join(dir, 'mosquitto.log') }, request()),
    ).rejects.toThrow("The target log file for 'mosquitto' does not exist.")
    logFile('old-1.log', 'x\n', 1)
    await expect(collectLog({ type: 'old', path: path.join(dir, 'old-*.log') }, request())).rejects.toThrow(
      "The target log file for 'old' does not exist.",
    )
    expect(readFileSync(path.join(dir, 'old-1.log'), 'utf8')).toBe('x\n')
  })

  it('keeps the lines whose own time is in range, with the untimed lines that follow them', async () => {
    const entry = {
      type: 'app',
      path: logFile(
        'app.log',
        [
          '2026-11-22T09:59:00Z early',
          '2026-11-22T10:00:00Z start',
          'Error: stack',
          '    at line (x.js:1)',
          '{"level":50,"time":1795341900000,"msg":"json in range"}',
          '{"level":30,"time":1795345200000,"msg":"json too late"}',
          '2026-11-23 10:31:00,123 late, local time with a comma',
          '  continues late',
        ].join('\n'),
      ),
    }
    const window = { dateFrom: new Date('2026-11-22T10:00:00Z'), dateTo: new Date('2026-11-22T10:30:00Z') }
    expect(await collectLog(entry, request(window))).toBe(
      [
        'filename: app.log',
        '2026-11-22T10:00:00Z start',
        'Error: stack',
        '    at line (x.js:1)',
        '{"level":50,"time":1795341900000,"msg":"json in range"}',
        '',
      ].join('\n'),
    )
  })
})
