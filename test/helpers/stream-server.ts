import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// A local HTTP server whose bodies are generated while they are sent, never stored: any size costs
// it one reusable chunk. `GET /bytes/<n>` sends n bytes, with a Content-Length unless `?chunked`;
// `GET /announce/<n>` only announces n bytes (its body never comes).

const CHUNK = Buffer.alloc(1024 * 1024, 0x5a)

export interface StreamServer {
  url: string
  /** URL of a body of `bytes` bytes; `chunked` leaves out the Content-Length. */
  bytes(bytes: number, options?: { chunked?: boolean }): string
  /** URL whose response announces `bytes` bytes, then sends nothing. */
  announce(bytes: number): string
  close(): Promise<void>
}

export async function startStreamServer(): Promise<StreamServer> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const [, kind, count] = url.pathname.split('/')
    const size = Number(count)
    if (!Number.isSafeInteger(size) || size < 0) {
      response.writeHead(404).end()
      return
    }
    if (kind === 'announce') {
      response.writeHead(200, { 'content-length': String(size) })
      response.flushHeaders()
      return
    }
    if (kind !== 'bytes') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, url.searchParams.has('chunked') ? {} : { 'content-length': String(size) })
    let left = size
    const pump = () => {
      // Waits for 'drain' whenever the socket is full: the receiver sets the pace.
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
        left -= chunk.length
        if (!response.write(chunk)) {
          response.once('drain', pump)
          return
        }
      }
      response.end()
    }
    response.on('close', () => {
      left = 0
    })
    pump()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    bytes: (bytes, options = {}) => `${url}/bytes/${bytes}${options.chunked ? '?chunked' : ''}`,
    announce: (bytes) => `${url}/announce/${bytes}`,
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}
