import net from 'node:net'

export interface TcpProxy {
  port: number
  /** mqtt://127.0.0.1:port, for an MQTT broker behind the proxy. */
  url: string
  /**
   * A network outage: resets every connection through the proxy and, until restore(), resets new
   * ones right after accepting them, so clients see ECONNRESET while the target stays up.
   */
  cut(): void
  restore(): void
  stop(): Promise<void>
  /** Bytes forwarded: up = client → target, down = target → client. */
  bytes: { up: number; down: number }
  /** Connections accepted and forwarded so far (not counting those refused while cut). */
  connections: number
}

/** A TCP proxy on a free loopback port in front of 127.0.0.1:targetPort. */
export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>()
  let isCut = false
  const bytes = { up: 0, down: 0 }
  let connections = 0

  const drop = (pair: { client: net.Socket; upstream: net.Socket }, reset: boolean) => {
    pairs.delete(pair)
    // A reset rather than a FIN: what a client sees when the network in between fails.
    if (!pair.client.destroyed) reset ? pair.client.resetAndDestroy() : pair.client.destroy()
    if (!pair.upstream.destroyed) pair.upstream.destroy()
  }

  // TCP_NODELAY on both legs, so the proxy adds no wait of its own (Nagle's algorithm would hold a
  // small PUBACK for a delayed ACK and set the pace of what passes through).
  const server = net.createServer({ noDelay: true }, (client) => {
    if (isCut) {
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    connections++
    const upstream = net.connect({ port: targetPort, host: targetHost, noDelay: true })
    const pair = { client, upstream }
    pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      bytes.up += chunk.length
    })
    upstream.on('data', (chunk: Buffer) => {
      bytes.down += chunk.length
    })
    client.pipe(upstream)
    upstream.pipe(client)
    // Either side closing (an end was already passed on by pipe) closes the other.
    for (const socket of [client, upstream]) {
      socket.on('error', () => drop(pair, false))
      socket.on('close', () => drop(pair, false))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    bytes,
    get connections() {
      return connections
    },
    cut() {
      isCut = true
      for (const pair of [...pairs]) drop(pair, true)
    },
    restore() {
      isCut = false
    },
    async stop() {
      for (const pair of [...pairs]) drop(pair, false)
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
