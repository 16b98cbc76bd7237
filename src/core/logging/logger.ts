import { pino, type Logger as PinoLogger, type LoggerOptions, type DestinationStream } from 'pino';

/** The structured logger every part of Tessera writes through (pino: one JSON object a line). */
export type Logger = PinoLogger;

/**
 * Paths pino replaces with `[redacted]` wherever they appear in a logged object. Secrets never
 * reach a log call on purpose; this is the net under that rule (a request's credentials, a
 * target's bind password, a token's secret, an SMTP URL with its password).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'bindPassword',
  '*.bindPassword',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'key',
  '*.key',
  'smtpUrl',
  '*.smtpUrl',
];

/**
 * Makes the process's logger. `level` is a pino level name (`TESSERA_LOG_LEVEL`); `stream` replaces
 * stdout (tests read what was written). `false` gives a logger that writes nothing.
 */
export function createLogger(options: { level: string; stream?: DestinationStream } | false): Logger {
  if (options === false) return pino({ enabled: false });
  const settings: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return options.stream ? pino(settings, options.stream) : pino(settings);
}
