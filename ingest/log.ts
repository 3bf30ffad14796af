import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger. Secrets (passwords, RTSP credentials, tokens) are redacted by path. */
export function createLogger(level: string, name = 'onegrid'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token'], censor: '[redacted]' },
  });
}
