/**
 * A line sink that writes the lines of one event-loop turn together (issue 17): under load, every `/mcp` request
 * logs its `keyhole.audit` line, and one `write` per line was one syscall per request on keyhole's hottest path.
 * Lines keep their order; they go out at the latest on the next `setImmediate`, and synchronously when the process
 * exits (so a line logged just before `process.exit` is not lost).
 */
export function batchedLineSink(
  write: (chunk: string) => void,
  writeSync: (chunk: string) => void = write,
  onExit: (flush: () => void) => void = (flush) => void process.once('exit', flush),
): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (via: (chunk: string) => void): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = `${pending.join('\n')}\n`;
    pending = [];
    via(chunk);
  };
  onExit(() => flush(writeSync));
  return (line: string) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => flush(write));
    }
  };
}
