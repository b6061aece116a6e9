import mqtt, { type MqttClient } from 'mqtt'
import { parseJson } from '../core/telemetry/payload'
import { parseTopic } from '../core/topics'
import { type FoundBroker, findBroker } from './broker-discovery'
import { type CommandSpec, type OptionSpec, type OptionValues, UsageError } from './command'
import { integer, positive, text } from './option-values'
import { onSignals } from './signals'

/** How long a connection attempt may take, in ms, before the command says it cannot reach the broker. */
const CONNECT_TIMEOUT_MS = 5000

const BROKER_OPTIONS: OptionSpec[] = [
  {
    name: 'url',
    value: 'URL',
    description: 'the broker, mqtt://host:port',
    default: '$EDGETWIN_MQTT_URL, else the running EdgeTwin’s',
  },
  {
    name: 'data-dir',
    value: 'DIR',
    description: 'where to find the running EdgeTwin',
    default: 'as for serve',
  },
  { name: 'ready-file', value: 'FILE', description: 'take the broker from the ready file serve wrote' },
  { name: 'qos', short: 'q', value: '0|1|2', description: 'MQTT quality of service', default: '0' },
]

const ENVIRONMENT = [
  { name: 'EDGETWIN_MQTT_URL', description: 'the broker when --url is not given (set for workflow scripts)' },
  { name: 'EDGETWIN_DATA_DIR', description: 'the data dir when --data-dir is not given' },
]

const DISCOVERY =
  'The broker is --url, else $EDGETWIN_MQTT_URL, else --ready-file, else the EdgeTwin running in the\n' +
  'data dir (serve writes its addresses to DATA_DIR/running.json while it runs).'

export const mqttPubCommand: CommandSpec = {
  name: 'mqtt pub',
  summary: 'publish one message (as `tedge mqtt pub`)',
  usage: '[options] TOPIC MESSAGE',
  description: `Publishes MESSAGE on TOPIC and exits.\n${DISCOVERY}`,
  options: [...BROKER_OPTIONS, { name: 'retain', short: 'r', description: 'retain the message' }],
  environment: ENVIRONMENT,
  examples: [
    {
      command: `edgetwin mqtt pub te/device/main///m/environment '{"temperature": 21.5}'`,
      description: 'a measurement of the main device, on the running EdgeTwin',
    },
    {
      command: `edgetwin mqtt pub -r -q 1 te/device/main///a/overheat '{"severity": "major", "text": "Hot"}'`,
      description: 'raise a retained alarm, acknowledged by the broker',
    },
    {
      command: `edgetwin mqtt pub --url mqtt://10.0.0.5:1883 te/device/main///e/login '{"text": "hello"}'`,
      description: 'an event on another machine’s broker',
    },
  ],
  positionals: true,
  run: publish,
}

export const mqttSubCommand: CommandSpec = {
  name: 'mqtt sub',
  summary: 'print the messages of a topic filter (as `tedge mqtt sub`)',
  usage: '[options] TOPIC_FILTER',
  description: `Prints "[topic] payload" per message until SIGTERM, Ctrl-C, --count or --duration.\n${DISCOVERY}`,
  options: [
    ...BROKER_OPTIONS,
    { name: 'no-topic', description: 'print the payload alone' },
    { name: 'count', value: 'N', description: 'exit after N messages' },
    { name: 'duration', value: 'SECONDS', description: 'exit after this long' },
  ],
  environment: ENVIRONMENT,
  examples: [
    { command: `edgetwin mqtt sub 'te/#'`, description: 'everything on the running EdgeTwin’s local bus' },
    { command: 'edgetwin mqtt sub te/errors', description: 'why messages were refused' },
    {
      command: `edgetwin mqtt sub --no-topic --count 1 'te/device/main///m/+'`,
      description: 'the next measurement of the main device, then exit',
    },
  ],
  positionals: true,
  run: subscribe,
}

function qosOption(values: OptionValues): 0 | 1 | 2 {
  return (integer(text(values.qos), 'qos', 0, 2) ?? 0) as 0 | 1 | 2
}

function broker(values: OptionValues): FoundBroker {
  return findBroker({
    url: text(values.url),
    readyFile: text(values['ready-file']),
    dataDir: text(values['data-dir']),
  })
}

async function connect({ url, from }: FoundBroker): Promise<MqttClient> {
  try {
    return await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: CONNECT_TIMEOUT_MS })
  } catch (error) {
    throw new Error(`cannot reach the broker at ${url} (from ${from}): ${(error as Error).message}`)
  }
}

async function publish(values: OptionValues, positionals: string[]): Promise<void> {
  if (positionals.length !== 2)
    throw new UsageError('mqtt pub needs TOPIC and MESSAGE (try: edgetwin mqtt pub --help)')
  const [topic, message] = positionals as [string, string]
  const qos = qosOption(values)
  const warning = payloadWarning(topic, message)
  const client = await connect(broker(values))
  if (warning) process.stderr.write(`edgetwin: warning: ${warning}\n`)
  try {
    await client.publishAsync(topic, message, { qos, retain: values.retain === true })
  } finally {
    await client.endAsync()
  }
}

/**
 * Why EdgeTwin will refuse this message, said before it is sent: on the thin-edge.io bus every
 * te/ payload is JSON (or empty, which clears), and a refusal is only reported on te/errors.
 */
function payloadWarning(topic: string, message: string): string | undefined {
  const parsed = parseTopic(topic)
  if (!parsed || message === '' || parsed.channel.kind === 'signal' || parsed.channel.kind === 'status')
    return undefined
  if (parseJson(Buffer.from(message)).ok) return undefined
  return (
    'the message is not JSON: EdgeTwin will refuse it and say why on te/errors. ' +
    `Payloads on te/ are JSON, e.g. '{"temperature": 21.5}'`
  )
}

async function subscribe(values: OptionValues, positionals: string[]): Promise<void> {
  if (positionals.length !== 1)
    throw new UsageError('mqtt sub needs one TOPIC_FILTER (try: edgetwin mqtt sub --help)')
  const [filter] = positionals as [string]
  const qos = qosOption(values)
  const count = integer(text(values.count), 'count', 1, Number.MAX_SAFE_INTEGER)
  const duration = positive(text(values.duration), 'duration')
  const withTopic = values['no-topic'] !== true
  const client = await connect(broker(values))
  const stop = async () => {
    await client.endAsync()
  }
  onSignals(stop)
  let received = 0
  client.on('message', (topic, payload) => {
    if (count !== undefined && received >= count) return
    received++
    process.stdout.write(withTopic ? `[${topic}] ${payload.toString()}\n` : `${payload.toString()}\n`)
    if (received === count) void stop().then(() => process.exit(0))
  })
  client.on('close', () => {
    if (client.disconnecting) return
    process.stderr.write('edgetwin: the broker closed the connection\n')
    process.exit(1)
  })
  const granted = await client.subscribeAsync(filter, { qos })
  if (granted.some((grant) => grant.qos === 128))
    throw new Error(`the broker refused the subscription to "${filter}"`)
  if (duration) setTimeout(() => void stop().then(() => process.exit(0)), duration * 1000).unref()
}
