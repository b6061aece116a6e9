import { parseArgs } from 'node:util'

/** A mistake in the command line: printed with a hint to `--help`, exit status 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  /** The long name, without `--`. */
  name: string
  short?: string
  /** What the option takes, as shown in the help (`PORT`, `0|1|2`); none for a flag. */
  value?: string
  description: string
  /** The default, as shown in the help. */
  default?: string
  /** The heading this option is listed under in the help (default: "Options"). */
  group?: string
}

export interface CommandSpec {
  /** As typed after `edgetwin`: `serve`, `mqtt pub`. */
  name: string
  /** One line for `edgetwin --help`. */
  summary: string
  /** What follows the command name in the usage line, e.g. `[options] TOPIC MESSAGE`. */
  usage: string
  /** A paragraph under the usage line. */
  description?: string
  options: OptionSpec[]
  environment?: Array<{ name: string; description: string }>
  examples: Array<{ command: string; description: string }>
  /** Named positional arguments taken (default: none). */
  positionals?: boolean
  /** Runs the command; a long-running one resolves once started and ends the process on its own. */
  run(values: OptionValues, positionals: string[]): Promise<void>
}

export type OptionValues = Record<string, string | boolean | undefined>

const HELP: OptionSpec = { name: 'help', short: 'h', description: 'show this help and exit' }

/** `--help` or `-h` before a `--`, wherever it stands among the other arguments. */
export function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')
}

/**
 * Parses a command's arguments against its options. Node's parseArgs messages speak of its own
 * API ("place it at the end of the command after '--'"); they are said again in EdgeTwin's terms.
 */
export function parseCommand(
  spec: CommandSpec,
  args: string[],
): { values: OptionValues; positionals: string[] } {
  const options = Object.fromEntries(
    spec.options.map((option) => [
      option.name,
      {
        type: option.value ? 'string' : 'boolean',
        ...(option.short ? { short: option.short } : {}),
      } as const,
    ]),
  )
  const hint = `(try: edgetwin ${spec.name} --help)`
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: spec.positionals ?? false,
    })
    return { values: values as OptionValues, positionals }
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    const option = /'(-{1,2}[^'\s,]+)/.exec(message)?.[1]
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option ${option ?? message} ${hint}`)
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const known = spec.options.find((o) => option === `--${o.name}` || option === `-${o.short}`)
        throw new UsageError(
          known?.value
            ? `--${known.name} needs a value: ${known.value} ${hint}`
            : `--${known?.name ?? option} takes no value ${hint}`,
        )
      }
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
        const argument = /'([^']*)'/.exec(message)?.[1]
        throw new UsageError(`unexpected argument${argument ? ` "${argument}"` : ''} ${hint}`)
      }
      default:
        throw error
    }
  }
}

/** The help of one command: usage, options with defaults, environment, examples. */
export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: edgetwin ${spec.name} ${spec.usage}`.trimEnd(), '']
  if (spec.description) lines.push(spec.description, '')
  const groups = new Map<string, OptionSpec[]>()
  for (const option of [...spec.options, HELP]) {
    const group = option.group ?? 'Options'
    groups.set(group, [...(groups.get(group) ?? []), option])
  }
  for (const [group, options] of groups) {
    lines.push(`${group}:`)
    for (const option of options) lines.push(...formatOption(option))
    lines.push('')
  }
  if (spec.environment?.length) {
    lines.push('Environment:')
    for (const variable of spec.environment) lines.push(...column(variable.name, variable.description))
    lines.push('')
  }
  lines.push('Examples:')
  for (const example of spec.examples) lines.push(`  ${example.command}`, `      ${example.description}`)
  return `${lines.join('\n')}\n`
}

/** Where descriptions start in the help, so they line up. */
const DESCRIPTION_COLUMN = 28

function formatOption(option: OptionSpec): string[] {
  const flag = `${option.short ? `-${option.short}, ` : '    '}--${option.name}${option.value ? ` ${option.value}` : ''}`
  if (option.default === undefined) return column(flag, option.description)
  const defaults = `(default: ${option.default})`
  const last = option.description.split('\n').at(-1) ?? ''
  // The default goes on the description's last line when both fit a terminal's 100 columns.
  const joined = DESCRIPTION_COLUMN + last.length + defaults.length < 100 && !defaults.includes('\n')
  return column(flag, `${option.description}${joined ? ' ' : '\n'}${defaults}`)
}

function column(left: string, text: string): string[] {
  const indent = ' '.repeat(DESCRIPTION_COLUMN)
  const [first, ...rest] = text.split('\n')
  const head =
    left.length + 4 <= DESCRIPTION_COLUMN
      ? [`  ${left.padEnd(DESCRIPTION_COLUMN - 2)}${first}`]
      : [`  ${left}`, `${indent}${first}`]
  return [...head, ...rest.map((line) => `${indent}${line}`)]
}
