/**
 * Why a connection to the cloud broker failed, in words a technician can act on: what happened and
 * what to check. Node's and mqtt.js's texts ("getaddrinfo ENOTFOUND host") name neither; they stay
 * available as `raw` for the log and the status's `lastErrorCode`.
 */
export interface ConnectionError {
  text: string
  /** The system or protocol error as it came (its code and message), for logs and support. */
  raw: string
}

const TRUST = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID|certificate/i

export function connectionError(error: unknown, url: string): ConnectionError {
  const err = error as { code?: unknown; message?: unknown }
  const message = typeof err?.message === 'string' ? err.message : String(error)
  const code = typeof err?.code === 'string' ? err.code : undefined
  const raw = code && !message.includes(code) ? `${code}: ${message}` : message
  return { text: describe(code, message, url), raw }
}

function describe(code: string | undefined, message: string, url: string): string {
  const { host, port } = target(url)
  const where = port ? `${host} (port ${port})` : host
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot find host ${host}: check the URL, DNS or network`
    case 'ECONNREFUSED':
      return `${where} refused the connection: check the port, and that the cloud broker is running`
    case 'ETIMEDOUT':
      return `${where} did not answer in time: check the network, a firewall or a proxy`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return `No route to ${host}: check this device's network connection`
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where} closed the connection: check that the URL's scheme (mqtts:// or mqtt://) matches the port`
  }
  if (/connack timeout/i.test(message))
    return `${where} accepted the connection but did not answer as an MQTT broker in time: check the URL and port`
  if (/Not authorized|Bad username or password|bad user name/i.test(message))
    return 'The cloud broker refused the login: check the user name, password or client certificate'
  if (/Identifier rejected|client identifier not valid/i.test(message))
    return 'The cloud broker refused this site id as a client id: check the site id'
  if ((code && TRUST.test(code)) || TRUST.test(message))
    return `The cloud broker's certificate is not trusted (${message}): check the CA certificate setting and the host name in the URL`
  if (/wrong version number|packet length too long|EPROTO/i.test(`${code} ${message}`))
    return `${where} does not speak TLS on this port: check the URL's scheme (mqtts:// or mqtt://) and port`
  return message
}

function target(url: string): { host: string; port: string } {
  try {
    const parsed = new URL(url)
    return { host: parsed.hostname, port: parsed.port }
  } catch {
    return { host: url, port: '' }
  }
}
