/**
 * A concurrency gate: at most `max` holders at once. `tryAcquire` returns a release function (idempotent) or null.
 * The pipeline releases when the upstream answer has ended (or failed, or the client went away).
 */
export interface ConcurrencyGate {
  readonly max: number;
  tryAcquire(): (() => void) | null;
  inFlight(): number;
}

export function createConcurrencyGate(max: number): ConcurrencyGate {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('max must be a positive integer');
  let held = 0;
  return {
    max,
    tryAcquire() {
      if (held >= max) return null;
      held++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held--;
      };
    },
    inFlight: () => held,
  };
}
