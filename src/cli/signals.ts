/** Stop a long-running command cleanly on SIGINT/SIGTERM (exit 0 once closed, 1 if closing failed). */
export function stopOnSignals(stop: () => Promise<void>): void {
  const handler = () => void stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
