/**
 * Publishes a `grant-revoked` notice to the other instances (store.changes), retrying in the background when the
 * database cannot take it. The revocation itself is already committed, so every instance refuses the grant's tokens
 * (their lookups read the database); the notice is what closes the grant's open streams and drops its per-grant caches
 * there (issue 12 §2). Delivery is at least once and listeners are idempotent (src/store/changes/change-feed.ts), so a
 * retry that follows a publish whose answer was lost does no harm.
 * - the first attempt is awaited by the revocation, as before;
 * - a failure is reported, then retried after each of `delaysMs` (timers unref'd: a pending retry never keeps the
 *   process up); a later success and the final give-up are reported too.
 */
export type NoticeReport =
  | { outcome: 'failed'; attempt: number; error: unknown; retryInMs: number }
  | { outcome: 'published_late'; attempt: number }
  | { outcome: 'abandoned'; attempt: number; error: unknown };

/** 1 s, 2 s, 5 s, 10 s, 30 s, 60 s: about 2 minutes, longer than a PostgreSQL failover or a connection pool's reconnect. */
export const NOTICE_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000] as const;

export async function publishNotice(
  publish: () => Promise<void>,
  report: (r: NoticeReport) => void,
  delaysMs: readonly number[] = NOTICE_RETRY_DELAYS_MS,
): Promise<void> {
  try {
    await publish();
    return;
  } catch (error) {
    if (delaysMs.length === 0) return report({ outcome: 'abandoned', attempt: 1, error });
    report({ outcome: 'failed', attempt: 1, error, retryInMs: delaysMs[0]! });
  }
  const retry = (index: number): void => {
    const timer = setTimeout(() => {
      const attempt = index + 2;
      publish().then(
        () => report({ outcome: 'published_late', attempt }),
        (error: unknown) => {
          const next = delaysMs[index + 1];
          if (next === undefined) return report({ outcome: 'abandoned', attempt, error });
          report({ outcome: 'failed', attempt, error, retryInMs: next });
          retry(index + 1);
        },
      );
    }, delaysMs[index]);
    timer.unref?.();
  };
  retry(0);
}
