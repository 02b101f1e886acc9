/**
 * Stop a long-running command cleanly on SIGINT/SIGTERM: exit 0 once `stop` resolved (1 if it rejected).
 * A second signal while stopping exits 1 at once (an operator who presses Ctrl-C twice means it).
 */
export function stopOnSignals(stop: (signal: NodeJS.Signals) => Promise<unknown>, opts: { onSecondSignal?: (signal: NodeJS.Signals) => void } = {}): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.onSecondSignal?.(signal);
      process.exit(1);
    }
    stopping = true;
    void stop(signal).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
