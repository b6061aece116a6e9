import { isIP } from 'node:net'
import os from 'node:os'
import { hostKind, isLoopbackAddress } from '../exposure/addresses'

/** How often the machine's addresses are read again (they change with DHCP, Wi-Fi, VPNs). */
const ADDRESSES_TTL_MS = 10_000

/** A Host header or an allowed-host entry split into a lower-case name and an optional port. */
export function splitHost(value: string): { name: string; port?: number } | undefined {
  // A DNS name (IDNs arrive as punycode), an IPv4 address or a bracketed IPv6 address.
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(value.trim())
  if (!match) return undefined
  const name = (match[1] as string).toLowerCase().replace(/\.$/, '')
  return match[2] === undefined ? { name } : { name, port: Number(match[2]) }
}

/** `[::1]` and `::1` are one name. */
const bare = (name: string) => name.replace(/^\[(.*)\]$/, '$1')

/**
 * Which names this core answers to (against DNS rebinding: a page whose name was re-pointed at this
 * machine still sends its own name as Host), and which origins are its own (against cross-site
 * requests). The names are the loopback names and the address the core listens on, every address
 * of the machine and its host name when it listens on all of them, and the operator's
 * `--allowed-hosts`. The core's own names must come with the port the connection arrived on; an
 * allowed-hosts entry with a port needs that port, one without accepts any (a reverse proxy or a
 * port mapping in front decides it).
 */
export class HostPolicy {
  private readonly configured: Array<{ name: string; port?: number }>
  private machine = new Set<string>()
  private machineReadAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly listenHost: string,
    allowedHosts: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.configured = allowedHosts.map((entry) => {
      const host = splitHost(entry)
      if (!host)
        throw new Error(`allowed host "${entry}" is not a host name or address with an optional port`)
      return { ...host, name: bare(host.name) }
    })
  }

  /** Whether `host` (a Host header) names this core, for a connection that arrived on `localPort`. */
  allows(host: string | undefined, localPort: number | undefined): boolean {
    if (!host) return false
    const parsed = splitHost(host)
    if (!parsed) return false
    const name = bare(parsed.name)
    for (const entry of this.configured) {
      if (entry.name === name && (entry.port === undefined || entry.port === parsed.port)) return true
    }
    // Without a port a browser means the scheme's default, which the core is rarely listening on.
    const port = parsed.port ?? 80
    if (port !== localPort) return false
    // localhost, 127.0.0.0/8 and ::1: what only this machine can be reached as.
    if (name === 'localhost' || isLoopbackAddress(name)) return true
    if (name === bare(this.listenHost.toLowerCase())) return true
    return hostKind(this.listenHost) === 'wildcard' && this.machineNames().has(name)
  }

  /**
   * Whether `origin` (an Origin header) is the origin of this request: its scheme and the same host
   * and port as the request's Host, which `allows` has accepted. `null` (a sandboxed frame, a file)
   * is nobody's origin.
   */
  sameOrigin(origin: string, host: string | undefined): boolean {
    if (!host) return false
    const match = /^(https?):\/\/([^/]+)$/i.exec(origin)
    if (!match) return false
    const given = splitHost(match[2] as string)
    const own = splitHost(host)
    if (!given || !own) return false
    const defaultPort = (match[1] as string).toLowerCase() === 'https' ? 443 : 80
    return bare(given.name) === bare(own.name) && (given.port ?? defaultPort) === (own.port ?? defaultPort)
  }

  private machineNames(): Set<string> {
    if (this.now() - this.machineReadAt < ADDRESSES_TTL_MS) return this.machine
    const names = new Set<string>()
    const hostname = os.hostname().toLowerCase()
    names.add(hostname)
    if (!hostname.includes('.')) names.add(`${hostname}.local`)
    for (const list of Object.values(os.networkInterfaces())) {
      for (const address of list ?? []) names.add(address.address.toLowerCase().replace(/%.*$/, ''))
    }
    this.machine = names
    this.machineReadAt = this.now()
    return names
  }
}

/** An `--allowed-hosts` entry's error, or undefined when it is usable. */
export function allowedHostError(entry: string): string | undefined {
  const host = splitHost(entry)
  if (!host || host.name === '') return `"${entry}" is not a host name or address with an optional port`
  if (host.port !== undefined && (host.port < 1 || host.port > 65535)) return `"${entry}" has no valid port`
  const name = bare(host.name)
  if (name.includes(':') && isIP(name) !== 6) return `"${entry}" is not a valid IPv6 address`
  return undefined
}
