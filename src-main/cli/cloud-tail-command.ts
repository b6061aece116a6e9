import path from 'node:path'
import { runCloudTail } from '../core/sync/cloud-tail'
import { siteIdError, UP_KINDS, type UpKind } from '../core/sync/protocol'
import { type CommandSpec, type OptionValues, UsageError } from './command'
import { brokerUrl, integer, positive, text } from './option-values'

export const cloudTailCommand: CommandSpec = {
  name: 'cloud-tail',
  summary: 'print what a site sends to the cloud broker',
  usage: '--url URL --site-id ID [options]',
  description:
    'Prints one JSON line per upstream item on stdout, each item once, in arrival order, until\n' +
    'SIGTERM, Ctrl-C, --count or --timeout.',
  options: [
    {
      name: 'url',
      value: 'URL',
      description: 'the cloud broker: mqtt://, mqtts://, ws:// or wss://HOST:PORT\n(required)',
    },
    { name: 'site-id', value: 'ID', description: 'the site whose items to print (required)' },
    { name: 'username', value: 'USER', description: 'MQTT user name' },
    { name: 'password', value: 'PASSWORD', description: 'MQTT password' },
    {
      name: 'ca',
      value: 'FILE',
      description: 'CA certificate(s) the broker’s certificate is checked\nagainst, PEM',
    },
    { name: 'cert', value: 'FILE', description: 'client certificate, PEM (with --key)' },
    { name: 'key', value: 'FILE', description: 'private key of the client certificate, PEM (with --cert)' },
    {
      name: 'client-id',
      value: 'ID',
      description: 'MQTT client id',
      default: 'edgetwin-cloud-tail-SITE-RANDOM',
    },
    {
      name: 'session',
      value: 'NAME',
      description:
        'persistent session (client id edgetwin-cloud-tail-SITE-NAME,\nclean: false): the broker keeps the items sent while the tail\nis not running',
    },
    {
      name: 'kinds',
      value: 'LIST',
      description: `only items of these kinds, e.g. alarm,event\n(${UP_KINDS.join(', ')})`,
    },
    { name: 'count', value: 'N', description: 'exit after printing N items' },
    {
      name: 'timeout',
      value: 'SECONDS',
      description: 'exit after this long; status 1 if --count items were not\nall printed',
    },
    {
      name: 'stats',
      description: 'on exit, print {"messages","items","duplicates","invalid","bytes"}\nto stderr',
    },
  ],
  examples: [
    {
      command:
        'edgetwin cloud-tail --url mqtts://cloud.example:8883 --site-id plant-1 --username ops --password …',
      description: 'follow everything site plant-1 sends',
    },
    {
      command:
        'edgetwin cloud-tail --url mqtt://127.0.0.1:1884 --site-id plant-1 --kinds alarm --count 1 --timeout 30',
      description: 'wait up to 30 s for the site’s next alarm; status 1 if none came',
    },
  ],
  run: cloudTail,
}

async function cloudTail(values: OptionValues): Promise<void> {
  const option = (name: string) => text(values[name])
  const url = brokerUrl(option('url'), 'url')
  if (!url) throw new UsageError('cloud-tail needs --url mqtt://host:port (try: edgetwin cloud-tail --help)')
  const site = option('site-id')
  if (site === undefined)
    throw new UsageError('cloud-tail needs --site-id ID (try: edgetwin cloud-tail --help)')
  const siteError = siteIdError(site)
  if (siteError) throw new UsageError(`--site-id: ${siteError}`)
  const session = option('session')
  if (session !== undefined && siteIdError(session))
    throw new UsageError('--session must be 1-64 letters, digits, "_", "." or "-"')
  if ((option('cert') === undefined) !== (option('key') === undefined))
    throw new UsageError('--cert and --key go together')
  const abort = new AbortController()
  // The first signal ends the tail cleanly (the message being printed is acknowledged); a second one exits.
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(1)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const file = (name: string) => {
    const value = option(name)
    return value && path.resolve(value)
  }
  await runCloudTail({
    url,
    siteId: site,
    username: option('username'),
    password: option('password'),
    caFile: file('ca'),
    certFile: file('cert'),
    keyFile: file('key'),
    clientId: option('client-id'),
    session,
    kinds: option('kinds') === undefined ? undefined : parseKinds(option('kinds') as string),
    count: integer(option('count'), 'count', 1, Number.MAX_SAFE_INTEGER),
    timeoutSeconds: positive(option('timeout'), 'timeout'),
    stats: values.stats === true,
    signal: abort.signal,
  })
  process.exit(0)
}

function parseKinds(value: string): UpKind[] {
  const kinds = value.split(',').map((kind) => kind.trim())
  for (const kind of kinds) {
    if (!(UP_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`--kinds: "${kind}" is not one of ${UP_KINDS.join(', ')}`)
  }
  return kinds as UpKind[]
}
