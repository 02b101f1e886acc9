/**
 * For a promise cached in a field and shared by concurrent callers (`this.x ??= forgetOnRejection(load(), () =>
 * (this.x = undefined))`): a success stays cached, a failure is not: `forget` clears the field, so the next call
 * tries again.
 */
export function forgetOnRejection<T>(promise: Promise<T>, forget: () => void): Promise<T> {
  return promise.catch((e: unknown) => {
    forget();
    throw e;
  });
}
