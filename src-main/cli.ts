import { asksForHelp, type CommandSpec, formatHelp, parseCommand, UsageError } from './cli/command'
import { COMMANDS, GROUPS } from './cli/commands'
import { version } from './core/version'

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2
  return [
    `EdgeTwin ${version} — a local digital twin for industrial equipment`,
    '',
    'Usage: edgetwin COMMAND [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help; `edgetwin COMMAND --help` shows a command’s options',
    '  -v, --version  print the version',
    '',
    'Examples:',
    '  edgetwin serve                     run EdgeTwin with its simulated line (UI on http://127.0.0.1:8000)',
    '  edgetwin serve --help              every option of serve, with its default',
    `  edgetwin mqtt pub te/device/main///m/ '{"temperature": 21.5}'`,
    '                                     publish to the running EdgeTwin’s broker',
    '',
  ].join('\n')
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((command) => command.name.startsWith(`${group} `))
  return [
    `Usage: edgetwin ${group} SUBCOMMAND [options]`,
    '',
    `${GROUPS[group]}.`,
    '',
    'Subcommands:',
    ...commands.map((command) => `  ${command.name.slice(group.length + 1).padEnd(6)}${command.summary}`),
    '',
    `Run \`edgetwin ${group} SUBCOMMAND --help\` for its options and examples.`,
    '',
  ].join('\n')
}

/** The command named by the first words of argv, and the arguments that follow its name. */
function findCommand(argv: string[]): { command: CommandSpec; args: string[] } | undefined {
  for (const command of COMMANDS) {
    const words = command.name.split(' ')
    if (words.every((word, i) => argv[i] === word)) return { command, args: argv.slice(words.length) }
  }
  return undefined
}

async function main(argv: string[]): Promise<void> {
  const [first, second] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(overview())
    return
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version}\n`)
    return
  }
  const found = findCommand(argv)
  if (!found) {
    if (first in GROUPS) {
      if (second === undefined || asksForHelp([second])) return void process.stdout.write(groupHelp(first))
      throw new UsageError(`unknown command "${first} ${second}" (try: edgetwin ${first} --help)`)
    }
    throw new UsageError(`unknown command "${first}" (try: edgetwin --help)`)
  }
  const { command, args } = found
  if (asksForHelp(args)) {
    process.stdout.write(formatHelp(command))
    return
  }
  const { values, positionals } = parseCommand(command, args)
  await command.run(values, positionals)
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`edgetwin: ${error.message}\n`)
  process.exit(error instanceof UsageError ? 2 : 1)
})
