import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Ready } from '../../../src-main/core/app'
import { type CoreChild, CoreHost } from '../../../src-main/electron/core-host'
import type { CoreRunOptions, ToCore } from '../../../src-main/electron/core-protocol'

const READY: Ready = {
  http: 'http://127.0.0.1:40001',
  mqtt: 'mqtt://127.0.0.1:40002',
  pid: 4242,
  token: 't'.repeat(32),
  login: 'http://127.0.0.1:40001/login?code=abc',
}
const OPTIONS: CoreRunOptions = { dataDir: '/tmp/edgetwin', sim: true, uiDir: '/app/dist/ui' }

/** Stands in for Electron's UtilityProcess: records what it is sent, exits when told to. */
class FakeCore implements CoreChild {
  readonly sent: ToCore[] = []
  readonly events = new EventEmitter()
  killed = false
  constructor(private readonly behaviour: { onStart?: (core: FakeCore) => void; stopsOnRequest?: boolean }) {}
  postMessage(message: ToCore): void {
    this.sent.push(message)
    if (message.type === 'start') this.behaviour.onStart?.(this)
    if (message.type === 'stop' && this.behaviour.stopsOnRequest !== false) queueMicrotask(() => this.exit(0))
  }
  kill(): boolean {
    this.killed = true
    queueMicrotask(() => this.exit(143))
    return true
  }
  onMessage(listener: (message: unknown) => void): void {
    this.events.on('message', listener)
  }
  onExit(listener: (code: number) => void): void {
    this.events.on('exit', listener)
  }
  reply(message: unknown): void {
    this.events.emit('message', message)
  }
  exit(code: number): void {
    this.events.emit('exit', code)
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('CoreHost', () => {
  it('starts the core with the options and resolves with its ready info', async () => {
    const child = new FakeCore({ onStart: (core) => core.reply({ type: 'ready', ready: READY }) })
    const host = new CoreHost({ fork: () => child })
    await expect(host.start(OPTIONS)).resolves.toEqual(READY)
    expect(child.sent).toEqual([{ type: 'start', options: OPTIONS }])
    expect(host.running).toBe(true)
  })

  it('ignores messages that are not part of the protocol', async () => {
    const child = new FakeCore({
      onStart: (core) => {
        core.reply('hello')
        core.reply({ type: 'ready', ready: { http: 1 } })
        core.reply({ type: 'ready', ready: READY })
      },
    })
    await expect(new CoreHost({ fork: () => child }).start(OPTIONS)).resolves.toEqual(READY)
  })

  it('rejects with the reason when the core fails to start, and still stops it', async () => {
    const child = new FakeCore({
      onStart: (core) =>
        core.reply({ type: 'failed', message: 'data dir /x is in use by another EdgeTwin (pid 7)' }),
    })
    const host = new CoreHost({ fork: () => child })
    await expect(host.start(OPTIONS)).rejects.toThrow('in use by another EdgeTwin (pid 7)')
    await expect(host.stop()).resolves.toBe('stopped')
    expect(host.running).toBe(false)
  })

  it('explains a better-sqlite3 built for Node.js rather than Electron', async () => {
    const child = new FakeCore({
      onStart: (core) =>
        core.reply({
          type: 'failed',
          message:
            'better_sqlite3.node was compiled against a different Node.js version using NODE_MODULE_VERSION 115',
        }),
    })
    await expect(new CoreHost({ fork: () => child }).start(OPTIONS)).rejects.toThrow(
      'npx electron-builder install-app-deps',
    )
  })

  it('rejects when the process dies before it is ready', async () => {
    const child = new FakeCore({ onStart: (core) => core.exit(1) })
    await expect(new CoreHost({ fork: () => child }).start(OPTIONS)).rejects.toThrow(
      'exited with code 1 before it was ready',
    )
  })

  it('stops cleanly: sends stop and waits for the exit', async () => {
    const child = new FakeCore({ onStart: (core) => core.reply({ type: 'ready', ready: READY }) })
    const onUnexpectedExit = vi.fn()
    const host = new CoreHost({ fork: () => child, onUnexpectedExit })
    await host.start(OPTIONS)
    const [first, second] = [host.stop(), host.stop()]
    await expect(first).resolves.toBe('stopped')
    await expect(second).resolves.toBe('stopped')
    expect(child.sent.filter((message) => message.type === 'stop')).toHaveLength(1)
    expect(child.killed).toBe(false)
    expect(onUnexpectedExit).not.toHaveBeenCalled()
    expect(host.running).toBe(false)
  })

  it('kills a core that does not stop within the timeout', async () => {
    vi.useFakeTimers()
    const child = new FakeCore({
      onStart: (core) => core.reply({ type: 'ready', ready: READY }),
      stopsOnRequest: false,
    })
    const host = new CoreHost({ fork: () => child, stopTimeoutMs: 5_000 })
    await host.start(OPTIONS)
    const stopped = host.stop()
    await vi.advanceTimersByTimeAsync(4_999)
    expect(child.killed).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(stopped).resolves.toBe('killed')
    expect(child.killed).toBe(true)
    expect(host.running).toBe(false)
  })

  it('reports a core that exits by itself after it was ready', async () => {
    const child = new FakeCore({ onStart: (core) => core.reply({ type: 'ready', ready: READY }) })
    const onUnexpectedExit = vi.fn()
    const host = new CoreHost({ fork: () => child, onUnexpectedExit })
    await host.start(OPTIONS)
    child.exit(9)
    expect(onUnexpectedExit).toHaveBeenCalledWith(9)
    expect(host.running).toBe(false)
    await expect(host.stop()).resolves.toBe('not running')
  })

  it('does not start a second core while one runs', async () => {
    const child = new FakeCore({ onStart: (core) => core.reply({ type: 'ready', ready: READY }) })
    const host = new CoreHost({ fork: () => child })
    await host.start(OPTIONS)
    await expect(host.start(OPTIONS)).rejects.toThrow('already running')
  })
})
