/**
 * The Content-Security-Policy of the app's page, whether Electron or `basis serve` delivers
 * it: scripts and styles from the app itself only; inline styles are allowed because Plotly
 * sets element styles and injects its stylesheet; nothing may frame the page or be framed.
 * src/renderer/index.html repeats it as a meta tag (less frame-ancestors, which only a
 * header can carry).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');
