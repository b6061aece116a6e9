import net from 'node:net'

export interface WireProxy {
  /** mqtt://127.0.0.1:port: the broker behind the proxy. */
  url: string
  /** Bytes forwarded so far: up = client → broker, down = broker → client (TCP payload, all connections). */
  bytes: { up: number; down: number }
  stop(): Promise<void>
}

/**
 * Counts the bytes MQTT clients and a broker exchange, by standing between them on loopback. Both
 * legs run with TCP_NODELAY so the proxy adds no wait of its own: with Nagle's algorithm a small
 * PUBACK re-sent by the proxy could wait for a delayed ACK, and the proxy would set the pace.
 */
export async function startWireProxy(targetPort: number): Promise<WireProxy> {
  const bytes = { up: 0, down: 0 }
  const sockets = new Set<net.Socket>()
  const server = net.createServer({ noDelay: true }, (client) => {
    const broker = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true })
    for (const socket of [client, broker]) {
      sockets.add(socket)
      socket.on('close', () => {
        sockets.delete(socket)
        client.destroy()
        broker.destroy()
      })
      socket.on('error', () => {})
    }
    client.on('data', (chunk: Buffer) => {
      bytes.up += chunk.length
    })
    broker.on('data', (chunk: Buffer) => {
      bytes.down += chunk.length
    })
    client.pipe(broker)
    broker.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `mqtt://127.0.0.1:${port}`,
    bytes,
    async stop() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
