import type { FastifyReply, FastifyRequest } from 'fastify'
import { CONTENT_SECURITY_POLICY } from './content-security-policy'

/**
 * Browser features the UI never uses, switched off for it and for anything injected into it;
 * fullscreen stays for the kiosk's own button.
 */
const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'bluetooth=()',
  'camera=()',
  'display-capture=()',
  'fullscreen=(self)',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'serial=()',
  'usb=()',
].join(', ')

/**
 * Headers on every answer: the UI's own origin only (CSP), no framing (also for browsers that only
 * know X-Frame-Options), no sniffing, no referrer, no window or resource shared with other origins.
 * API answers hold live data and are never stored by a browser or a proxy (OWASP ASVS V8.2.1); the
 * UI's built files may be cached but are checked again on each load, so a new version shows at once.
 */
export async function securityHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'no-referrer')
  reply.header('x-frame-options', 'DENY')
  reply.header('permissions-policy', PERMISSIONS_POLICY)
  reply.header('cross-origin-opener-policy', 'same-origin')
  reply.header('cross-origin-resource-policy', 'same-origin')
  const cacheable = !request.is404 && request.routeOptions.config.static === true && reply.statusCode < 400
  reply.header('cache-control', cacheable ? 'no-cache' : 'no-store')
}
