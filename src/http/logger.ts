/**
 * keyhole's operator log: one JSON line per entry (`{"level","msg",…fields}`) into a sink (stderr by default).
 * Levels debug < info < warn < error; entries below the threshold are dropped before they are built. The
 * threshold is `info` unless told otherwise, so debug is off by default; `level` is the one place a config
 * `logLevel` plugs in. Callers pass ids, fingerprints, names and reasons, never a token value (docs/invariants.md #1).
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where finished lines go (one JSON object per call, without the newline). */
export type LineSink = (line: string) => void;

export interface Logger {
  /** The threshold: entries below it are dropped. */
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export const stderrSink: LineSink = (line) => process.stderr.write(`${line}\n`);

export function createLogger(sink: LineSink = stderrSink, opts: { level?: LogLevel } = {}): Logger {
  const level = opts.level ?? 'info';
  if (!isLogLevel(level)) throw new TypeError(`createLogger: level must be one of ${LOG_LEVELS.join(', ')}`);
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LOG_LEVELS.indexOf(l) >= threshold;
  const at = (l: LogLevel) =>
    function log(msg: string, fields: Record<string, unknown> = {}): void {
      if (enabled(l)) sink(JSON.stringify(Object.assign({ level: l, msg }, fields, { level: l, msg })));
    };
  return { level, enabled, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
