/** SQLite upstream-registrations repository over `upstream_registrations` (migration 3, ./migrations.ts). */
import type { UpstreamRegistration, UpstreamRegistrationRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';
import { REGISTRATION_UPSERT, registrationFromRow, registrationParams, type RegistrationRow } from '../rows/upstream-registration-rows.js';

export class SqliteUpstreamRegistrations implements Synchronous<UpstreamRegistrationRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      put: p(REGISTRATION_UPSERT),
      get: p<RegistrationRow>('SELECT * FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
      delete: p('DELETE FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
    };
  }

  put(r: UpstreamRegistration): void {
    this.#s.put.run(registrationParams(r));
  }

  find(server: string, issuer: string): UpstreamRegistration | undefined {
    const row = this.#s.get.get({ server, issuer });
    return row && registrationFromRow(row);
  }

  delete(server: string, issuer: string): void {
    this.#s.delete.run({ server, issuer });
  }
}
