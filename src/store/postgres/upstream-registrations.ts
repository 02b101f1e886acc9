/** PostgreSQL upstream-registrations repository over `upstream_registrations` (./migrations.ts; ../repositories/upstream-registrations.ts). */
import type { UpstreamRegistration, UpstreamRegistrationRepository } from '../types.js';
import { statement, type Executor } from './executor.js';
import { REGISTRATION_UPSERT, registrationFromRow, registrationParams, type RegistrationRow } from '../rows/upstream-registration-rows.js';

const S = {
  put: statement('registrations.put', REGISTRATION_UPSERT),
  get: statement<RegistrationRow>('registrations.get', 'SELECT * FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
  delete: statement('registrations.delete', 'DELETE FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
};

export class PostgresUpstreamRegistrations implements UpstreamRegistrationRepository {
  constructor(private readonly ex: Executor) {}

  async put(r: UpstreamRegistration): Promise<void> {
    await this.ex.run(S.put, registrationParams(r));
  }

  async find(server: string, issuer: string): Promise<UpstreamRegistration | undefined> {
    const r = await this.ex.one(S.get, { server, issuer });
    return r && registrationFromRow(r);
  }

  async delete(server: string, issuer: string): Promise<void> {
    await this.ex.run(S.delete, { server, issuer });
  }
}
