import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel } from '../../../src/http/logger.js';

describe('createLogger', () => {
  it('drops debug by default and writes one JSON line per entry at info and above, level and msg first', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l));
    expect(log.level).toBe('info');
    expect(log.enabled('debug')).toBe(false);
    log.debug('d', { a: 1 });
    log.info('i', { a: 1 });
    log.warn('w');
    log.error('e', { level: 'debug', msg: 'forged' });
    expect(lines).toEqual(['{"level":"info","msg":"i","a":1}', '{"level":"warn","msg":"w"}', '{"level":"error","msg":"e"}']);
  });

  it('writes debug lines when the level is debug, and only errors when it is error', () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l), { level: 'debug' }).debug('keyhole.client_aborted', { path: '/token' });
    expect(lines).toEqual(['{"level":"debug","msg":"keyhole.client_aborted","path":"/token"}']);
    const quiet = createLogger((l) => lines.push(l), { level: 'error' });
    quiet.warn('w');
    quiet.error('e');
    expect(lines.slice(1)).toEqual(['{"level":"error","msg":"e"}']);
  });

  it('refuses an unknown level (a config logLevel is checked the same way)', () => {
    expect(isLogLevel('trace')).toBe(false);
    expect(isLogLevel('debug')).toBe(true);
    expect(() => createLogger(() => {}, { level: 'verbose' as never })).toThrow(TypeError);
  });
});
