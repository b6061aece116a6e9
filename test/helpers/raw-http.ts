import http from 'node:http'

export interface RawAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

export interface RawRequest {
  method?: string
  /** Sent exactly as given (no URL normalisation: dot segments and percent-encoding stay). */
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** The client's source address, e.g. 127.0.0.2 (any 127.0.0.0/8 address is this machine). */
  localAddress?: string
}

/**
 * One HTTP/1.1 request through node:http, which, unlike fetch, sends the path as written and lets
 * the test set Host, Origin and fetch metadata headers as a browser or an attacker would.
 */
export function rawRequest(base: string, request: RawRequest): Promise<RawAnswer> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: request.headers,
        localAddress: request.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(request.body)
  })
}
