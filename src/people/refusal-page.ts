/**
 * What a refused person reads (issue 13 §2: "a clear page"): one title and one sentence per refusal, shared by the
 * sign-in surface (src/org-sign-in/) and /authorize. No group names of other people, no configuration detail beyond
 * the server's display name.
 */
import type { AccessRefusal } from './group-policy.js';

export interface RefusalText {
  title: string;
  description: string;
}

export function refusalText(reason: AccessRefusal, serverName?: string): RefusalText {
  switch (reason) {
    case 'offboarded':
      return { title: 'Your access has been ended', description: 'Your organization has ended your access to keyhole. If you think this is a mistake, contact your administrator.' };
    case 'not_in_allowed_groups':
      return { title: 'You cannot use keyhole', description: 'Your organization account is not in a group allowed to use keyhole. Ask your administrator for access.' };
    case 'not_in_server_groups':
      return { title: 'You cannot use this server', description: `Your organization account is not in a group allowed to use ${serverName ?? 'this MCP server'}. Ask your administrator for access.` };
    case 'no_permitted_scope':
      return { title: 'You cannot grant this access', description: `None of the permissions this application asked for on ${serverName ?? 'this MCP server'} may be granted to your organization account. Ask your administrator for access.` };
  }
}
