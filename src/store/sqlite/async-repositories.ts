/**
 * The SQLite repositories are synchronous (better-sqlite3); the store interface is asynchronous (for PostgreSQL).
 * `asyncRepository` turns one into the other through a `Runner`, which decides when a synchronous call may run:
 * - outside a transaction (`gatedRunner`): at once when no transaction is open, else once it has ended, so that it
 *   neither joins the open transaction (nor is rolled back with it) nor reads its uncommitted rows;
 * - inside one (`directRunner`): at once, on the transaction's connection.
 * The hot path (no transaction open) adds only the promise: the value is computed synchronously.
 */
import type { AsyncMutex } from './async-mutex.js';

/** The synchronous shape of an asynchronous repository interface. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

export type Runner = <R>(call: () => R) => Promise<R>;

/** Runs `call` now; a synchronous throw becomes a rejection. */
export const directRunner: Runner = <R>(call: () => R): Promise<R> => {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err as Error);
  }
};

/** Runs `call` now when `mutex` is free, else as soon as it is. */
export function gatedRunner(mutex: AsyncMutex): Runner {
  return <R>(call: () => R): Promise<R> => {
    if (!mutex.locked) return directRunner(call);
    return (async () => {
      while (mutex.locked) await mutex.whenFree();
      return call();
    })();
  };
}

/** An object with the methods of `repository` (its class's public methods), each run through `run`. */
export function asyncRepository<T extends object>(repository: Synchronous<T>, run: Runner): T {
  const out: Record<string, unknown> = {};
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(repository)).filter(
    (name) => name !== 'constructor' && typeof (repository as Record<string, unknown>)[name] === 'function',
  );
  for (const name of methods) {
    const method = (repository as Record<string, (...args: unknown[]) => unknown>)[name]!;
    out[name] = (...args: unknown[]) => run(() => method.apply(repository, args));
  }
  return out as T;
}
