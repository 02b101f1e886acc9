/** The default log sink writes the lines of one event-loop turn in one write, in order, each ending in a newline. */
import { describe, expect, it } from 'vitest';
import { batchedLineSink } from '../../../src/http/batched-line-sink.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('batchedLineSink', () => {
  it('writes the lines of one turn together, in order, and nothing before the turn ends', async () => {
    const writes: string[] = [];
    const sink = batchedLineSink((c) => writes.push(c));
    sink('{"a":1}');
    sink('{"b":2}');
    sink('{"c":3}');
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual(['{"a":1}\n{"b":2}\n{"c":3}\n']);
    sink('{"d":4}');
    await tick();
    expect(writes).toEqual(['{"a":1}\n{"b":2}\n{"c":3}\n', '{"d":4}\n']);
  });

  it('flushes what is pending synchronously when the process exits', () => {
    const writes: string[] = [];
    let atExit: (() => void) | undefined;
    const sink = batchedLineSink((c) => writes.push(`async:${c}`), (c) => writes.push(`sync:${c}`), (f) => { atExit = f; });
    sink('last words');
    atExit!();
    expect(writes).toEqual(['sync:last words\n']);
  });
});
