/** Which cistern driver a pool runs, and so which SQL family and connection shape kysely meets. */
import type { Pool } from '../pool/pool.js';

/** A cistern pool (any driver kysely can talk to through it). */
export type KyselyPool = Pool<any>;

export type ConnectionKind = 'postgres' | 'pg' | 'mariadb';

const KINDS: Record<string, ConnectionKind> = { postgres: 'postgres', pg: 'pg', mariadb: 'mariadb' };

export function connectionKind(pool: KyselyPool): ConnectionKind {
  const name = pool.driver?.name;
  const kind = typeof name === 'string' && Object.hasOwn(KINDS, name) ? KINDS[name] : undefined;
  if (kind === undefined) {
    throw new TypeError(
      `CisternDialect: a pool of the '${String(name)}' driver cannot serve kysely: use a pool of cistern/postgres, cistern/pg or cistern/mariadb`,
    );
  }
  return kind;
}

export function sqlFamily(pool: KyselyPool): 'postgres' | 'mysql' {
  return connectionKind(pool) === 'mariadb' ? 'mysql' : 'postgres';
}
