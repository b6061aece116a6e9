import net from 'node:net'

// MQTT 3.1.1 packets built byte by byte, for what a well-behaved client library will not send.

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff])

/** A length-prefixed string field from its raw bytes (any bytes, valid UTF-8 or not). */
export const field = (bytes: Buffer | string) => {
  const raw = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  return Buffer.concat([u16(raw.length), raw])
}

/** The Remaining Length encoding [MQTT-2.2.3]. */
export function remainingLength(n: number): Buffer {
  const bytes: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    bytes.push(byte)
  } while (n > 0)
  return Buffer.from(bytes)
}

export const packet = (type: number, flags: number, body: Buffer) =>
  Buffer.concat([Buffer.from([(type << 4) | flags]), remainingLength(body.length), body])

export interface ConnectFields {
  clientId?: Buffer | string
  clean?: boolean
  will?: { topic: Buffer | string; payload: Buffer }
  username?: Buffer | string
  password?: Buffer | string
}

export function connect(fields: ConnectFields = {}): Buffer {
  const {
    clientId = `raw-${Math.random().toString(36).slice(2, 10)}`,
    clean = true,
    will,
    username,
    password,
  } = fields
  let flags = clean ? 0x02 : 0
  if (will) flags |= 0x04
  if (username !== undefined) flags |= 0x80
  if (password !== undefined) flags |= 0x40
  const parts = [field('MQTT'), Buffer.from([4, flags]), u16(60), field(clientId)]
  if (will) parts.push(field(will.topic), field(will.payload))
  if (username !== undefined) parts.push(field(username))
  if (password !== undefined) parts.push(field(password))
  return packet(1, 0, Buffer.concat(parts))
}

export interface PublishFields {
  qos?: 0 | 1 | 2
  retain?: boolean
  id?: number
}

/** The fixed header and variable header of a PUBLISH whose payload has `payloadLength` bytes. */
export function publishHead(
  topic: Buffer | string,
  payloadLength: number,
  fields: PublishFields = {},
): Buffer {
  const { qos = 0, retain = false, id = 1 } = fields
  const variable = Buffer.concat([field(topic), qos > 0 ? u16(id) : Buffer.alloc(0)])
  return Buffer.concat([
    Buffer.from([0x30 | (qos << 1) | (retain ? 1 : 0)]),
    remainingLength(variable.length + payloadLength),
    variable,
  ])
}

export const publish = (topic: Buffer | string, payload: Buffer | string, fields: PublishFields = {}) => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  return Buffer.concat([publishHead(topic, body.length, fields), body])
}

export const subscribe = (filters: Array<Buffer | string>, id = 1) =>
  packet(8, 2, Buffer.concat([u16(id), ...filters.map((f) => Buffer.concat([field(f), Buffer.from([1])]))]))

export const unsubscribe = (filters: Array<Buffer | string>, id = 1) =>
  packet(10, 2, Buffer.concat([u16(id), ...filters.map(field)]))

/** A raw connection: what it received, and whether the server closed it. */
export class RawClient {
  readonly socket: net.Socket
  received = Buffer.alloc(0)
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>
  private waiters: Array<() => void> = []

  constructor(url: string) {
    const { hostname, port } = new URL(url)
    this.socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''))
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk])
      for (const wake of this.waiters.splice(0)) wake()
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()))
    void this.closed.then(() => {
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.closed
  }

  /** Resolves once `bytes` have been received in a row; rejects if the connection closes first. */
  async expect(bytes: Buffer, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.received.includes(bytes)) {
      if (this.isClosed) throw new Error(`closed before ${bytes.toString('hex')} arrived`)
      if (Date.now() > deadline) throw new Error(`no ${bytes.toString('hex')} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Resolves when the server has closed the connection; rejects if it has not within `timeoutMs`. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the connection is still open after ${timeoutMs} ms`)),
        timeoutMs,
      )
    })
    try {
      await Promise.race([this.closed, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends CONNECT and waits for its accepting CONNACK. */
  async connect(fields: ConnectFields = {}): Promise<void> {
    this.send(connect(fields))
    await this.expect(CONNACK_ACCEPTED)
  }

  destroy(): void {
    this.socket.destroy()
  }
}

export const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00])
export const puback = (id: number) => Buffer.from([0x40, 0x02, id >> 8, id & 0xff])
