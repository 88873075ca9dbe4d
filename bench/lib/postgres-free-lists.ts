import postgresjs from 'postgres';
import { postgres } from '../../src/drivers/postgres/index.js';
import { freeListUse } from './free-list.js';
import { readyPool } from './ready-pool.js';

/** A postgres.js tagged template, as the free lists hand it to `fn`. */
export type Tagged = (strings: TemplateStringsArray) => PromiseLike<unknown>;

export interface PostgresFreeList {
  use<R>(fn: (sql: Tagged) => PromiseLike<R>): Promise<R>;
  close(): Promise<void>;
}

/**
 * The floor of the PostgreSQL scenarios: `connections` postgres.js `max: 1` instances,
 * each connected, behind the bare free list (bench/lib/free-list.ts).
 */
export async function postgresJsFreeList(url: string, connections: number): Promise<PostgresFreeList> {
  const instances = Array.from({ length: connections }, () =>
    postgresjs(url, { max: 1, onnotice: () => {} }),
  );
  await Promise.all(instances.map((sql) => sql`select 1`));
  return {
    use: freeListUse(instances as unknown as Tagged[]),
    close: async () => void (await Promise.all(instances.map((sql) => sql.end()))),
  };
}

/**
 * The same free list over the `connections` connections of a cistern pool (all checked
 * out once, `c.sql` of each): cistern's driver layer without the pool.
 */
export async function cisternConnectionsFreeList(
  url: string,
  connections: number,
): Promise<PostgresFreeList> {
  const pool = await readyPool(postgres(url), connections);
  const conns = await Promise.all(Array.from({ length: connections }, () => pool.acquire()));
  return {
    use: freeListUse(conns.map((c) => c.sql as unknown as Tagged)),
    close: async () => {
      for (const c of conns) pool.release(c);
      await pool.close();
    },
  };
}
