import { pino } from 'pino';

const SECRET_NAMES = ['secret', 'secrets', 'keyPem', 'key', 'token', 'adminToken'];

/**
 * JSON logs. Secrets never reach a line: the API logs no headers or bodies, and these paths are
 * redacted anyway in case a future call logs a whole object.
 */
export function createLogger(level = 'info'): pino.Logger {
  return pino({
    level,
    redact: {
      // Each name at the top of a line's object and one level down.
      paths: ['req.headers.authorization', 'headers.authorization', ...SECRET_NAMES.flatMap((n) => [n, `*.${n}`])],
      censor: '[redacted]',
    },
  });
}
