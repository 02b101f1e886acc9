/**
 * Remembers, in a signed cookie, which grants this browser completed, so that a step-up authorization
 * (a client asking for more scopes) is recognised before the upstream round trip and keyhole asks the upstream
 * only for the upstream scopes that are added. The callback still checks that the same upstream account
 * signed in before widening a grant, so a stolen or stale cookie can never widen someone else's grant.
 */
import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../store/crypto/hash.js';

const MAX_GRANTS = 8;
const MAX_AGE_SECONDS = 30 * 86_400;

export function browserGrants(publicUrl: string, key: Buffer) {
  const secure = publicUrl.startsWith('https://');
  const name = secure ? '__Host-keyhole-grants' : 'keyhole-grants';
  const sign = (ids: string) => createHmac('sha256', key).update(`grants\0${ids}`).digest('base64url');
  const read = (c: Context): string[] => {
    const raw = getCookie(c, name);
    if (!raw) return [];
    const [ids, mac] = raw.split('~');
    if (!ids || !mac || !safeEqual(sign(ids), mac)) return [];
    return ids.split('.').filter((id) => /^g_[A-Za-z0-9_-]{22}$/.test(id));
  };
  return {
    read,
    remember(c: Context, grantId: string): void {
      const ids = [grantId, ...read(c).filter((id) => id !== grantId)].slice(0, MAX_GRANTS).join('.');
      setCookie(c, name, `${ids}~${sign(ids)}`, { path: '/', httpOnly: true, sameSite: 'Lax', secure, maxAge: MAX_AGE_SECONDS, ...(secure ? { prefix: 'host' as const } : {}) });
    },
  };
}
