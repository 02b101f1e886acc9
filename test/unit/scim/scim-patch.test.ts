/**
 * SCIM PATCH parsing (src/scim/scim-patch.ts) and filters (src/scim/scim-filter.ts): every deactivation shape real
 * IdPs send, op words in any case, paths with the core schema URN, attribute updates, and a deactivation never lost
 * to an unexpected op word.
 */
import { describe, expect, it } from 'vitest';
import { parseScimPatch } from '../../../src/scim/scim-patch.js';
import { parseScimFilter } from '../../../src/scim/scim-filter.js';
import { ScimError } from '../../../src/scim/scim-response.js';

const SCHEMAS = ['urn:ietf:params:scim:api:messages:2.0:PatchOp'];
const patch = (...Operations: unknown[]) => parseScimPatch({ schemas: SCHEMAS, Operations });

describe('parseScimPatch', () => {
  it.each([
    ['Okta', { op: 'replace', value: { active: false } }],
    ['Entra ID (boolean)', { op: 'Replace', path: 'active', value: false }],
    ['Entra ID ("False")', { op: 'Replace', path: 'active', value: 'False' }],
    ['add without path', { op: 'add', value: { active: false } }],
    ['REPLACE with the URN path', { op: 'REPLACE', path: 'urn:ietf:params:scim:schemas:core:2.0:User:active', value: 'false' }],
    ['value key in another case', { op: 'replace', value: { Active: 'FALSE' } }],
  ])('deactivates: %s', (_label, op) => {
    expect(patch(op)).toEqual({ active: false });
  });

  it('reactivates and updates attributes (Entra ID sends several operations)', () => {
    expect(patch(
      { op: 'Replace', path: 'active', value: 'True' },
      { op: 'Replace', path: 'userName', value: 'new@acme.example' },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@acme.example' },
      { op: 'Replace', path: 'name.givenName', value: 'New' },
      { op: 'Replace', path: 'name.familyName', value: 'Name' },
      { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'R&D' },
      { op: 'remove', path: 'externalId' },
    )).toEqual({ active: true, userName: 'new@acme.example', email: 'new@acme.example', name: 'New Name', externalId: null });
  });

  it('an unknown op word is invalidSyntax, but a deactivation in it is kept for the caller to apply first', () => {
    const out = patch({ op: 'disable', value: { active: false } });
    expect(out.active).toBe(false);
    expect(out.error).toBeInstanceOf(ScimError);
    expect(out.error).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    const later = patch({ op: 'replace', path: 'active', value: false }, { op: 'frobnicate', path: 'x', value: 1 });
    expect(later).toMatchObject({ active: false, error: { scimType: 'invalidSyntax' } });
  });

  it('a deactivation next to an invalid value is still kept', () => {
    const out = patch({ op: 'replace', value: { active: false, userName: 42 } });
    expect(out.active).toBe(false);
    expect(out.error).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });

  it('refuses what is not a PatchOp', () => {
    expect(() => parseScimPatch({ schemas: SCHEMAS })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidSyntax' }));
    expect(() => parseScimPatch({ schemas: SCHEMAS, Operations: [] })).toThrow(expect.objectContaining({ scimType: 'invalidSyntax' }));
    expect(patch({ op: 'replace', path: 'active', value: 'maybe' }).error).toMatchObject({ scimType: 'invalidValue' });
    expect(patch({ op: 'remove' }).error).toMatchObject({ scimType: 'noTarget' });
    expect(patch({ op: 'remove', path: 'userName' }).error).toMatchObject({ scimType: 'mutability' });
    expect(parseScimPatch({ schemas: ['urn:other'], Operations: [{ op: 'replace', value: { active: false } }] })).toMatchObject({ active: false, error: { scimType: 'invalidSyntax' } });
  });
});

describe('parseScimFilter', () => {
  it('reads the lookups Okta and Entra ID send (attribute and operator case-insensitive)', () => {
    expect(parseScimFilter('userName eq "alice@acme.example"')).toEqual({ attr: 'userName', value: 'alice@acme.example' });
    expect(parseScimFilter('USERNAME EQ "a\\"b"')).toEqual({ attr: 'userName', value: 'a"b' });
    expect(parseScimFilter('externalId eq "00u1abc"')).toEqual({ attr: 'externalId', value: '00u1abc' });
    expect(parseScimFilter('emails.value eq "x@y.example"')).toEqual({ attr: 'email', value: 'x@y.example' });
  });
  it.each(['userName co "a"', 'name eq "a"', 'userName eq a', 'userName eq "a" and active eq true', ''])('refuses %j with invalidFilter', (f) => {
    expect(() => parseScimFilter(f)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidFilter' }));
  });
});
