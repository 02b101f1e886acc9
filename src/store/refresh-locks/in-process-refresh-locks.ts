/**
 * Refresh locks within one process (SQLite: one keyhole process per database file). One FIFO queue per grant id;
 * the entry is dropped when nobody holds or waits for the lock.
 */
import { DEFAULT_REFRESH_LOCK_WAIT_MS, RefreshLockTimeoutError, type RefreshLockOptions, type RefreshLocks } from './refresh-locks.js';

interface Lane {
  held: boolean;
  waiters: Array<() => void>;
}

export class InProcessRefreshLocks implements RefreshLocks {
  readonly #lanes = new Map<string, Lane>();

  /** Grant ids whose lock is held now (tests, diagnostics). */
  held(): string[] {
    return [...this.#lanes].filter(([, l]) => l.held).map(([id]) => id);
  }

  async withLock<T>(grantId: string, fn: () => Promise<T>, options: RefreshLockOptions = {}): Promise<T> {
    const waitMs = options.waitMs ?? DEFAULT_REFRESH_LOCK_WAIT_MS;
    let lane = this.#lanes.get(grantId);
    if (!lane) {
      lane = { held: false, waiters: [] };
      this.#lanes.set(grantId, lane);
    }
    if (lane.held) {
      const l = lane;
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          l.waiters.splice(l.waiters.indexOf(wake), 1);
          reject(new RefreshLockTimeoutError(grantId, waitMs));
        }, waitMs);
        timer.unref?.();
        l.waiters.push(wake);
      });
      // Handed over by the releasing holder: `held` stayed true.
    } else {
      lane.held = true;
    }
    try {
      return await fn();
    } finally {
      const next = lane.waiters.shift();
      if (next) next();
      else {
        lane.held = false;
        this.#lanes.delete(grantId);
      }
    }
  }
}
