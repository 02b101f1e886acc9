/**
 * Record builders shared by the store contract parts (people-contract.ts, search-contract.ts): a person and a grant
 * with neutral defaults, fresh ids, created at T0; `over` sets what a test is about.
 */
import { randomId } from '../../../src/store/crypto/hash.js';
import type { GrantRecord, PersonRecord } from '../../../src/store/types.js';

export const T0 = 1_700_000_000;

export function personRecord(over: Partial<PersonRecord> = {}): PersonRecord {
  return {
    id: randomId('u'), iss: null, sub: null, email: null, name: null, groups: [], status: 'active', offboardedAt: null, offboardedBy: null,
    offboardedVia: null, externalId: null, userName: null, scimActive: null, createdAt: T0, lastSeenAt: null, ...over,
  };
}

/** An active grant of client `c_client` on server `demo`, without a person. */
export function grantRecord(over: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: randomId('g'), clientId: 'c_client', server: 'demo', subject: 'upstream-1', subjectName: null, scopes: ['mcp'], status: 'active',
    statusReason: null, createdAt: T0, lastUsedAt: null, revokedAt: null, person: null, ...over,
  };
}
