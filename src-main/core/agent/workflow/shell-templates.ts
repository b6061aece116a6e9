import path from 'node:path'
import type { WorkflowDefinition } from './model'
import { splitCommandLine } from './script'

// Workflow scripts run without a shell and expand their `${…}` templates after splitting the
// command line into words (as thin-edge.io does), so a template is always one argument, verbatim.
// A script that starts a shell with `-c` and puts a template inside the shell's command string
// undoes that: the shell parses the command's text, and a payload such as `x; rm -rf ~` runs.
// Such workflows still load (thin-edge.io runs them too); their author is warned.

/** Programs that read a command string after `-c`. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox'])

/**
 * Templates whose value the command's publisher chooses: its payload and its topic's entity and id.
 * `${.topic.root_prefix}` and `${.topic.operation}` are fixed by the workflow and the bus.
 */
const FROM_COMMAND = /\$\{\.(?:payload[^}]*|topic|topic\.target|topic\.cmd_id|)\}/g

export interface ShellTemplateWarning {
  state: string
  /** The templates found inside the shell's command string. */
  templates: string[]
  message: string
}

/** One warning per script of the workflow that puts a command's value inside a `sh -c` string. */
export function shellTemplateWarnings(workflow: WorkflowDefinition): ShellTemplateWarning[] {
  const warnings: ShellTemplateWarning[] = []
  for (const state of workflow.states.values()) {
    const { action } = state
    const scripts = [
      action.kind === 'script' ? action.command : undefined,
      action.kind === 'operation' ? action.inputScript : undefined,
    ]
    for (const script of scripts) {
      const templates = script === undefined ? [] : templatesInShellString(script)
      if (templates.length === 0) continue
      warnings.push({
        state: state.name,
        templates,
        message:
          `state "${state.name}" runs a shell with -c and expands ${templates.join(', ')} inside its ` +
          'command string: a command can make that shell run anything. Pass the value as an argument ' +
          `after the string instead: sh -c '… "$1" …' sh ${templates[0]}`,
      })
    }
  }
  return warnings
}

/** The command-chosen templates inside the `-c` string of a shell the command line starts. */
export function templatesInShellString(commandLine: string): string[] {
  let words: string[]
  try {
    words = splitCommandLine(commandLine)
  } catch {
    return []
  }
  // The shell may come after `env`, `sudo`, `timeout 10` and the like: any word naming one counts.
  let shell = words.findIndex((word) => SHELLS.has(path.basename(word)))
  if (shell < 0) return []
  if (path.basename(words[shell] as string) === 'busybox') shell++
  // The shell's own options, up to its first operand (a script file, or `--`): `-c`, alone or among
  // other one-letter options (`-ec`, `-xc`), makes the word after the options the command string.
  let commandString = false
  for (let i = shell + 1; i < words.length; i++) {
    const word = words[i] as string
    if (/^[-+]o$/.test(word)) {
      i++ // `-o pipefail`: an option with its value
      continue
    }
    if (!/^[-+][A-Za-z]+$/.test(word)) {
      if (!commandString) return []
      return [...new Set(word.match(FROM_COMMAND) ?? [])]
    }
    if (word.startsWith('-') && word.includes('c')) commandString = true
  }
  return []
}
