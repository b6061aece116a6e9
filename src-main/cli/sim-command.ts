import { createSimulator } from '../core/sim'
import { type CommandSpec, type OptionValues, UsageError } from './command'
import { brokerUrl, integer, positive, text } from './option-values'
import { onSignals } from './signals'

export const simCommand: CommandSpec = {
  name: 'sim',
  summary: 'run the simulated equipment against any MQTT broker',
  usage: '--url URL [options]',
  description:
    'Publishes the simulated filling line (and optional load devices) over thin-edge.io’s MQTT API\n' +
    'until SIGTERM, Ctrl-C or --duration, then prints how many messages it published.',
  options: [
    { name: 'url', value: 'URL', description: 'broker to publish to, mqtt://host:port (required)' },
    { name: 'devices', value: 'N', description: 'extra child devices for load tests', default: '0' },
    {
      name: 'rate',
      value: 'HZ',
      description: 'measurement messages per second per load device',
      default: '1',
    },
    { name: 'seed', value: 'N', description: 'seed (same seed, same behaviour)', default: 'random' },
    { name: 'duration', value: 'SECONDS', description: 'stop after this long and print what was published' },
  ],
  examples: [
    {
      command: 'edgetwin sim --url mqtt://127.0.0.1:1883',
      description: 'the filling line on a local broker',
    },
    {
      command: 'edgetwin sim --url mqtt://127.0.0.1:1883 --devices 200 --rate 5 --duration 60',
      description: 'a one-minute load test: 200 extra devices, 5 messages a second each',
    },
  ],
  run: sim,
}

async function sim(values: OptionValues): Promise<void> {
  const url = brokerUrl(text(values.url), 'url')
  if (!url) throw new UsageError('sim needs --url mqtt://host:port (try: edgetwin sim --help)')
  const duration = positive(text(values.duration), 'duration')
  const simulator = createSimulator({
    url,
    devices: integer(text(values.devices), 'devices', 0, 100_000) ?? 0,
    rate: positive(text(values.rate), 'rate') ?? 1,
    seed: integer(text(values.seed), 'seed', 0, 2 ** 32 - 1),
  })
  const started = Date.now()
  const report = () => {
    const seconds = (Date.now() - started) / 1000
    const { published } = simulator.stats
    process.stdout.write(
      `published ${published} messages in ${seconds.toFixed(1)} s (${Math.round(published / seconds)}/s)\n`,
    )
  }
  onSignals(async () => {
    await simulator.stop()
    report()
  })
  await simulator.start()
  process.stdout.write(`simulating against ${url}\n`)
  if (!simulator.runsLine)
    process.stdout.write('a simulated filling line already runs there: publishing only the load devices\n')
  if (duration) {
    setTimeout(async () => {
      await simulator.stop()
      report()
      process.exit(0)
    }, duration * 1000)
  }
}
