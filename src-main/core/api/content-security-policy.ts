/**
 * The UI's own origin only: no inline scripts, no frames, no other hosts. Styles allow inline
 * attributes because Svelte transitions and uPlot size elements with them. Sent by the core with
 * every answer and enforced again by the desktop shell; dependency-free so both can import it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ')
