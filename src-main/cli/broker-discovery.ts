import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readRuntimeFile } from '../core/store/runtime-file'
import { UsageError } from './command'
import { brokerUrl, defaultDataDir } from './option-values'

/** A broker to connect to, and where its address came from (said when it cannot be reached). */
export interface FoundBroker {
  url: string
  from: string
}

/** What `mqtt pub`/`sub` were told about where to look. */
export interface BrokerHints {
  url?: string
  readyFile?: string
  dataDir?: string
}

/**
 * The running core's broker, found as a person would look for it: `--url`, then EDGETWIN_MQTT_URL
 * (set for workflow scripts), then a `--ready-file` that `serve` wrote, then the data dir's
 * running.json (`--data-dir`, EDGETWIN_DATA_DIR or the default one) while its core still runs.
 */
export function findBroker(hints: BrokerHints, env: NodeJS.ProcessEnv = process.env): FoundBroker {
  const given = brokerUrl(hints.url, 'url')
  if (given) return { url: given, from: '--url' }
  if (env.EDGETWIN_MQTT_URL) return { url: env.EDGETWIN_MQTT_URL, from: 'EDGETWIN_MQTT_URL' }
  if (hints.readyFile) return { url: fromReadyFile(hints.readyFile), from: hints.readyFile }
  const dataDir = path.resolve(hints.dataDir ?? defaultDataDir())
  const running = readRuntimeFile(dataDir)
  if (running && isRunning(running.pid))
    return { url: running.mqtt, from: `the EdgeTwin running in ${dataDir} (pid ${running.pid})` }
  throw new Error(
    `no running EdgeTwin found in ${dataDir}; start one with \`edgetwin serve\`, ` +
      'give its --data-dir, or pass --url mqtt://host:port',
  )
}

function fromReadyFile(file: string): string {
  let mqtt: unknown
  try {
    mqtt = (JSON.parse(readFileSync(file, 'utf8')) as { mqtt?: unknown }).mqtt
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`--ready-file: cannot read ${file}: ${code ?? 'not a ready file'}`)
  }
  if (typeof mqtt !== 'string') throw new UsageError(`--ready-file: ${file} holds no "mqtt" address`)
  return mqtt
}

/** A core killed with -9 leaves its running.json behind: its pid tells whether it still runs. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
