import net from 'node:net'
import os from 'node:os'

/** Where `--host` puts the listeners: loopback only, every interface, or one other address. */
export type HostKind = 'loopback' | 'wildcard' | 'lan'

/** A peer address on this machine's loopback interface (IPv4, IPv6, or IPv4 mapped into IPv6). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return v4.startsWith('127.') ? net.isIPv4(v4) : address === '::1'
}

export function hostKind(host: string): HostKind {
  if (host === 'localhost' || isLoopbackAddress(host)) return 'loopback'
  if (host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0') return 'wildcard'
  return 'lan'
}

/** The loopback address local clients use to reach listeners on `host`. */
export function loopbackFor(host: string): string {
  if (hostKind(host) === 'loopback') return host
  return host === '::' ? '::1' : '127.0.0.1'
}

/** host:port in a URL. */
export function urlHost(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`
}

/**
 * The names other machines may use to reach `host`: the host itself, or for a wildcard every address
 * of every interface (including those on `lo` that are not loopback addresses) and this machine's
 * name. They go in the generated certificate's subjectAltName and in the URLs shown at start.
 */
export function lanNames(host: string): { dns: string[]; ips: string[] } {
  const dns = new Set<string>()
  const ips = new Set<string>()
  const add = (name: string) => (net.isIP(name) ? ips : dns).add(name)
  if (hostKind(host) === 'lan') add(host)
  else {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const { address, scopeid } of addresses ?? []) {
        if (!isLoopbackAddress(address) && !scopeid) add(address)
      }
    }
    const hostname = os.hostname()
    if (hostname) add(hostname)
  }
  return { dns: [...dns], ips: [...ips] }
}
