import { once } from 'node:events'
import net from 'node:net'
import type tls from 'node:tls'
import { listenError } from '../broker/listen-error'
import { hostKind, isLoopbackAddress, loopbackFor } from './addresses'

export interface FrontDoorOptions {
  /** For listen errors: `MQTT` or `HTTP`, and the option that sets the port. */
  what: string
  flag: string
  host: string
  port: number
  /**
   * Whether to take a new connection, given how many are open (a connection limit); a refused one is
   * destroyed at once.
   */
  admit?: (socket: net.Socket, open: number) => boolean
  /** A connection from a loopback address: plain, and trusted as the local bus is. */
  local: (socket: net.Socket) => void
  /**
   * Where connections from any other address go: a TLS server that completes the handshake (it is
   * handed the socket, it does not listen itself). Without one they are closed at once.
   */
  secure?: tls.Server
}

/**
 * The listening sockets of one protocol on `--host`, deciding per connection by the peer's address,
 * as /te/v1 does: loopback clients get the plain protocol they always had; every other client gets
 * TLS only (a plain MQTT CONNECT or HTTP request fails the handshake), and for MQTT an authentication.
 * A `--host` naming one non-loopback address is also listened on at the loopback address with the
 * same port, for the core's own clients; a wildcard host covers loopback already.
 */
export class FrontDoor {
  private readonly servers: net.Server[] = []
  private readonly sockets = new Set<net.Socket>()

  constructor(private readonly options: FrontDoorOptions) {}

  /** Listens; resolves with the port (the one picked for port 0). */
  async listen(): Promise<number> {
    const { host, port } = this.options
    const first = await this.listenOn(host, port)
    if (hostKind(host) === 'lan') await this.listenOn(loopbackFor(host), first)
    return first
  }

  private async listenOn(host: string, port: number): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket))
    this.servers.push(server)
    server.listen(port, host)
    await once(server, 'listening').catch((error: NodeJS.ErrnoException) => {
      throw listenError(error, this.options.what, host, port, this.options.flag)
    })
    return (server.address() as net.AddressInfo).port
  }

  private accept(socket: net.Socket): void {
    const { admit, local, secure } = this.options
    // A connection reset before it is handled must not become an uncaught error.
    socket.on('error', () => {})
    if (admit && !admit(socket, this.sockets.size)) {
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    if (isLoopbackAddress(socket.remoteAddress)) local(socket)
    else if (secure) secure.emit('connection', socket)
    else socket.destroy()
  }

  get connections(): number {
    return this.sockets.size
  }

  /** Stops listening and closes every connection, TLS or not. */
  close(): void {
    for (const server of this.servers.splice(0)) server.close()
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
  }
}
