import type { UpItem } from '../../src-main/core/sync/protocol'
import type { CliExit, CliProcess, CliProcesses } from './cli'

// `edgetwin cloud-tail` as a child process (dist/cli.js, built by `npm run build:core`): what a
// cloud consumer of a site receives, as parsed JSON lines.

/** One printed line: the item plus the batch's site and stream. */
export type TailItem = UpItem & { site: string; stream: string }

export interface CloudTail {
  cli: CliProcess
  /** Items printed so far, in order. */
  readonly items: TailItem[]
  stderr(): string
  /** Resolves with the items once `predicate(items)` holds; rejects on timeout or early exit. */
  waitFor(predicate: (items: TailItem[]) => boolean, timeoutMs?: number): Promise<TailItem[]>
  /** Resolves once the tail has subscribed (its stderr says so). */
  subscribed(timeoutMs?: number): Promise<void>
  /** SIGTERM, then the exit. */
  stop(): Promise<CliExit>
}

/** Spawns the tail with these arguments (add --url, --site-id…); `processes.cleanup()` kills it. */
export function spawnCloudTail(processes: CliProcesses, args: string[]): CloudTail {
  const cli = processes.run(['cloud-tail', ...args])
  const items: TailItem[] = []
  let partial = ''
  let exit: CliExit | undefined
  const checks = new Set<() => void>()
  const recheck = () => {
    for (const check of [...checks]) check()
  }
  cli.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) items.push(JSON.parse(line) as TailItem)
    recheck()
  })
  cli.child.stderr?.on('data', recheck)
  void cli.exited.then((e) => {
    exit = e
    recheck()
  })

  const until = <T>(test: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const result = test()
        if (result !== undefined) return finish(() => resolve(result))
        if (exit)
          finish(() =>
            reject(
              new Error(`cloud-tail exited (${exit?.code ?? exit?.signal}) before ${what}: ${cli.stderr()}`),
            ),
          )
      }
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `${what} did not happen within ${timeoutMs} ms; items: ${JSON.stringify(items)}; ` +
                  `stderr: ${cli.stderr()}`,
              ),
            ),
          ),
        timeoutMs,
      )
      const finish = (settle: () => void) => {
        clearTimeout(timer)
        checks.delete(check)
        settle()
      }
      checks.add(check)
      check()
    })

  return {
    cli,
    items,
    stderr: cli.stderr,
    waitFor(predicate, timeoutMs = 10_000) {
      return until(() => (predicate(items) ? [...items] : undefined), timeoutMs, 'the expected items')
    },
    async subscribed(timeoutMs = 10_000) {
      await until(
        () => (cli.stderr().includes('cloud-tail: subscribed') ? true : undefined),
        timeoutMs,
        'subscribing',
      )
    },
    async stop() {
      if (!exit) cli.child.kill('SIGTERM')
      return cli.exited
    },
  }
}

/** Spawns the tail and waits until it has subscribed, so nothing published afterwards is missed. */
export async function startCloudTail(processes: CliProcesses, args: string[]): Promise<CloudTail> {
  const tail = spawnCloudTail(processes, args)
  await tail.subscribed()
  return tail
}
