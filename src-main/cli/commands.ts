import { cloudTailCommand } from './cloud-tail-command'
import type { CommandSpec } from './command'
import { mqttPubCommand, mqttSubCommand } from './mqtt-commands'
import { serveCommand } from './serve-command'
import { simCommand } from './sim-command'

/** Every command of `edgetwin`, in the order `edgetwin --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  serveCommand,
  simCommand,
  mqttPubCommand,
  mqttSubCommand,
  cloudTailCommand,
]

/** Words that only group commands (`edgetwin mqtt`), with what their help says. */
export const GROUPS: Record<string, string> = {
  mqtt: 'talk to the running EdgeTwin’s broker (as `tedge mqtt`)',
}
