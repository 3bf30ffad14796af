// Credentials in camera URLs (rtsp://user:pass@host/…) must never reach a log line, a state message or a
// browser. Every string that may hold a URL or ffmpeg's own output goes through here first.

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi;

export function redact(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

// What a browser is told about a camera failure never names the camera's address either (host, port,
// path or query of its RTSP URL): operators read those in the log, where `redact` keeps only the password out.
const URL_ANYWHERE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]*/gi;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
const IPV6 = /\[[0-9a-f:.]+\](?::\d{1,5})?/gi;
const HOST_PORT = /\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d{1,5})?\b/gi;

/** A failure text safe to show a browser: URLs, addresses and host names replaced by `[camera]`. */
export function redactForBrowser(text: string): string {
  return redact(text)
    .replace(URL_ANYWHERE, '[camera]')
    .replace(IPV6, '[camera]')
    .replace(IPV4, '[camera]')
    .replace(HOST_PORT, '[camera]');
}
