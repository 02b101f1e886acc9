/**
 * A FIFO async mutex for the SQLite store's one connection: a transaction holds it from BEGIN to COMMIT/ROLLBACK,
 * and operations outside the transaction wait until it is free (`whenFree`).
 */
export class AsyncMutex {
  #locked = false;
  readonly #queue: Array<() => void> = [];
  readonly #freeWaiters: Array<() => void> = [];

  get locked(): boolean {
    return this.#locked;
  }

  /** Resolves with the release function once the mutex is held by the caller (first come, first served). */
  async acquire(): Promise<() => void> {
    if (this.#locked) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#locked = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  /** Resolves the next time the mutex is free (at once when it is). The caller must check `locked` again. */
  whenFree(): Promise<void> {
    if (!this.#locked) return Promise.resolve();
    return new Promise<void>((resolve) => this.#freeWaiters.push(resolve));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) {
      next(); // handed over: stays locked
      return;
    }
    this.#locked = false;
    for (const resolve of this.#freeWaiters.splice(0)) resolve();
  }
}
