/**
 * Browser steps of a sign-in through keyhole in real Chromium, shared by the e2e tests with an organization IdP
 * (test/helpers/org-idp.ts) and oidc-provider upstreams: the oidc-provider devInteractions login, and keyhole's
 * consent page followed by the upstream login up to the client's redirect.
 */
import { expect } from 'vitest';
import type { Page } from 'playwright-core';

/** oidc-provider devInteractions: the login form, then its consent form. */
export async function idpLogin(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click();
}

/**
 * From keyhole's consent page: approve, sign in upstream as `upstreamLogin`, and return keyhole's authorization code
 * from the client's redirect (the first request starting with `redirectPrefix`).
 */
export async function approveAndSignInUpstream(page: Page, upstreamLogin: string, redirectPrefix: string): Promise<string> {
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('input[name="login"]').fill(upstreamLogin);
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('button[type="submit"]').click();
  const landed = page.waitForRequest((r) => r.url().startsWith(redirectPrefix));
  await page.locator('button[type="submit"]').click();
  const code = new URL((await landed).url()).searchParams.get('code');
  expect(code).toMatch(/^kh_code_/);
  return code!;
}
