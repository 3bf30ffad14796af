// Credentials in camera URLs (rtsp://user:pass@host/…) must never reach a log line, a state message or a
// browser. Every string that may hold a URL or ffmpeg's own output goes through here first.

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi;

export function redact(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
