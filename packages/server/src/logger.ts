import { pino } from 'pino';

/**
 * JSON logs. Secrets never reach a line: the API logs no headers or bodies, and these paths are
 * redacted anyway in case a future call logs a whole object.
 */
export function createLogger(level = 'info'): pino.Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.secret',
        '*.secrets',
        '*.keyPem',
        '*.key',
        '*.token',
        '*.adminToken',
      ],
      censor: '[redacted]',
    },
  });
}
