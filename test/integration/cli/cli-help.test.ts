import { afterAll, describe, expect, it } from 'vitest'
import { COMMANDS, GROUPS } from '../../../src-main/cli/commands'
import { CliProcesses } from '../../helpers/cli'

// Every command of the real CLI (dist/cli.js, `npm run build:core`) explains itself with --help and -h,
// and says its mistakes in EdgeTwin's words. The cases come from the command table, so a command
// added later is covered without touching this file.

const processes = new CliProcesses()
afterAll(() => processes.cleanup())

async function run(args: string[]) {
  const cli = processes.run(args)
  const exit = await cli.exited
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** What Node's own argument parser says, which must never reach a user. */
const NODE_PARSER_TEXT = /positional argument|place it at the end|ERR_PARSE_ARGS|Unknown option '/

describe('edgetwin COMMAND --help', { timeout: 120_000 }, () => {
  for (const command of COMMANDS) {
    const words = command.name.split(' ')
    it(`${command.name}: --help and -h print usage, options with defaults, environment and examples, exit 0`, async () => {
      const [long, short, amid] = await Promise.all([
        run([...words, '--help']),
        run([...words, '-h']),
        // Help wins wherever it stands, also after other options or a bad one.
        run([...words, '--bogus', 'x', '--help']),
      ])
      for (const answer of [long, short, amid]) {
        expect(answer.code, answer.stderr).toBe(0)
        expect(answer.stderr).toBe('')
        expect(answer.stdout).toBe(long.stdout)
      }
      const help = long.stdout
      expect(help.startsWith(`Usage: edgetwin ${command.name} `)).toBe(true)
      for (const option of command.options) {
        expect(help, `--${option.name}`).toMatch(new RegExp(`^ +(-\\w, )?--${option.name}( |$)`, 'm'))
        if (option.short) expect(help).toContain(`-${option.short}, --${option.name}`)
        if (option.default !== undefined) expect(help).toContain(`(default: ${option.default.split('\n')[0]}`)
      }
      for (const variable of command.environment ?? []) expect(help).toContain(variable.name)
      const examples = help.slice(help.indexOf('\nExamples:\n'))
      expect(
        examples.match(new RegExp(`^ {2}edgetwin ${command.name}(\\s|$)`, 'gm'))?.length,
      ).toBeGreaterThanOrEqual(2)
    })

    it(`${command.name}: a mistake is said in EdgeTwin's words with a hint to --help, exit 2`, async () => {
      const flag = command.options.find((option) => !option.value)
      // A stray argument where none is taken, or a value given to a flag.
      const misuse = command.positionals && flag ? `--${flag.name}=x` : 'stray'
      const [unknown, positional] = await Promise.all([run([...words, '--bogus']), run([...words, misuse])])
      expect(unknown).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `edgetwin: unknown option --bogus (try: edgetwin ${command.name} --help)\n`,
      })
      expect(positional.code).toBe(2)
      expect(positional.stderr).toMatch(
        new RegExp(`^edgetwin: .*\\(try: edgetwin ${command.name} --help\\)\\n$`),
      )
      const valued = command.options.find((option) => option.value)
      if (valued) {
        const missing = await run([...words, `--${valued.name}`])
        expect(missing.code).toBe(2)
        expect(missing.stderr).toBe(
          `edgetwin: --${valued.name} needs a value: ${valued.value} (try: edgetwin ${command.name} --help)\n`,
        )
      }
      for (const answer of [unknown, positional]) expect(answer.stderr).not.toMatch(NODE_PARSER_TEXT)
    })
  }

  for (const group of Object.keys(GROUPS)) {
    it(`${group}: alone or with --help lists its subcommands; an unknown one points to the list`, async () => {
      const [alone, help, unknown] = await Promise.all([
        run([group]),
        run([group, '--help']),
        run([group, 'nope']),
      ])
      for (const answer of [alone, help]) {
        expect(answer.code).toBe(0)
        for (const command of COMMANDS.filter((c) => c.name.startsWith(`${group} `)))
          expect(answer.stdout).toContain(command.name.slice(group.length + 1))
      }
      expect(unknown).toMatchObject({
        code: 2,
        stderr: `edgetwin: unknown command "${group} nope" (try: edgetwin ${group} --help)\n`,
      })
    })
  }

  it('edgetwin --help lists every command and how to get its help', async () => {
    const answer = await run(['--help'])
    expect(answer.code).toBe(0)
    for (const command of COMMANDS) expect(answer.stdout).toContain(`  ${command.name} `)
    expect(answer.stdout).toContain('edgetwin COMMAND --help')
  })

  it('says what is wrong with --qos in the terms its help uses', async () => {
    const help = (await run(['mqtt', 'pub', '--help'])).stdout
    expect(help).toContain('-q, --qos 0|1|2')
    const answer = await run(['mqtt', 'pub', '-q', '5', '--url', 'mqtt://127.0.0.1:1', 'te/x', '{}'])
    expect(answer).toMatchObject({
      code: 2,
      stderr: 'edgetwin: --qos must be an integer from 0 to 2, not "5"\n',
    })
  })

  it('says which part of --retention is wrong and what would be right', async () => {
    const answers = await Promise.all(
      [['raw=7x'], ['logs=7d'], ['raw']].map(([value]) => run(['serve', '--retention', value as string])),
    )
    expect(answers.map((answer) => [answer.code, answer.stderr])).toEqual([
      [2, 'edgetwin: --retention: raw needs a number of days like raw=30d, not "7x"\n'],
      [
        2,
        'edgetwin: --retention: "logs" is not a kind of history; use raw, minute, hour, events or alarms\n',
      ],
      [2, 'edgetwin: --retention: write each kind as KIND=DAYSd, e.g. raw=7d, not "raw"\n'],
    ])
  })
})
