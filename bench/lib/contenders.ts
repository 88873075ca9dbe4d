/**
 * The pools the benchmarks compare, behind one small interface.
 *
 * Each contender writes its own `worker` loop on purpose: one shared loop
 * would make the `pool.acquire()` call site megamorphic across five pool
 * classes and charge every contender for it. Here each call site only ever
 * sees one pool, as in an application.
 *
 * Competitor code stays in bench/ (they are devDependencies only).
 */
import { createRequire } from 'node:module';
import genericPool from 'generic-pool';
import { Pool as TarnPool } from 'tarn';
import { BarePool } from './bare-pool.js';
import { FakePgClient } from './fake-pg-client.js';

export interface Contender {
  readonly name: string;
  /** `callers` concurrent loops of `opsPerCaller` `acquire(); release()` round trips. */
  run(callers: number, opsPerCaller: number): Promise<void>;
  /** One acquire, for the waiter-memory scenario. */
  acquire(): Promise<unknown>;
  release(conn: unknown): void;
  close(): Promise<void>;
}

export interface ContenderSpec {
  readonly name: string;
  /** A pool of `size` in-memory resources. */
  open(size: number): Promise<Contender>;
}

/** A pooled in-memory resource: no I/O, so only the pool's own cost is measured. */
export interface Resource {
  readonly id: number;
}

let nextId = 0;
const makeResource = (): Resource => ({ id: ++nextId });

function spawn(callers: number, start: () => Promise<void>): Promise<unknown> {
  const all = new Array<Promise<void>>(callers);
  for (let i = 0; i < callers; i++) all[i] = start();
  return Promise.all(all);
}

export const bare: ContenderSpec = {
  name: 'bare',
  async open(size) {
    const pool = new BarePool<Resource>(Array.from({ length: size }, makeResource));
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.acquire();
        pool.release(c);
      }
    }
    return {
      name: 'bare',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.acquire(),
      release: (c) => pool.release(c as Resource),
      close: async () => {},
    };
  },
};

export const cistern: ContenderSpec = {
  name: 'cistern',
  async open(size) {
    const { createPool, fromFactory } = await import('../../src/index.js');
    const pool = createPool(
      fromFactory<Resource>({
        create: async () => makeResource(),
        destroy: async () => {},
        validate: async () => true,
      }),
      // All features on: pre-ping window, lifetime check, events (no listener), stats.
      { size, maxOverflow: 0, prePing: true, telemetry: false },
    );
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.acquire();
        pool.release(c);
      }
    }
    return {
      name: 'cistern',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.acquire(),
      release: (c) => pool.release(c as Resource),
      close: () => pool.close({ timeoutMs: 1000 }),
    };
  },
};

export const genericPoolSpec: ContenderSpec = {
  name: 'generic-pool',
  async open(size) {
    const pool = genericPool.createPool<Resource>(
      { create: async () => makeResource(), destroy: async () => {} },
      { max: size, min: size },
    );
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.acquire();
        pool.release(c);
      }
    }
    return {
      name: 'generic-pool',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.acquire(),
      release: (c) => void pool.release(c as Resource),
      close: async () => {
        await pool.drain();
        await pool.clear();
      },
    };
  },
};

export const tarn: ContenderSpec = {
  name: 'tarn',
  async open(size) {
    const pool = new TarnPool<Resource>({
      create: async () => makeResource(),
      destroy: () => {},
      min: size,
      max: size,
    });
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.acquire().promise;
        pool.release(c);
      }
    }
    return {
      name: 'tarn',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.acquire().promise,
      release: (c) => void pool.release(c as Resource),
      close: async () => {
        await pool.destroy();
      },
    };
  },
};

/** The slice of pg-pool we call (it ships no types). */
interface PgPoolLike {
  connect(): Promise<FakePgClient>;
  end(): Promise<void>;
}
type PgPoolCtor = new (options: { max: number; min: number; Client: typeof FakePgClient }) => PgPoolLike;

export const pgPool: ContenderSpec = {
  name: 'pg-pool',
  async open(size) {
    const PgPool = createRequire(import.meta.url)('pg-pool') as PgPoolCtor;
    // min = max, like the others: no idle-timeout timer per release.
    const pool = new PgPool({ max: size, min: size, Client: FakePgClient });
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.connect();
        c.release!();
      }
    }
    return {
      name: 'pg-pool',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.connect(),
      release: (c) => (c as FakePgClient).release!(),
      close: () => pool.end(),
    };
  },
};

/** The in-memory client with pg's transaction status (always idle), so the face's reset sends nothing, as with pg. */
class IdleFakePgClient extends FakePgClient {
  getTransactionStatus(): string {
    return 'I';
  }
}

export const cisternPgFace: ContenderSpec = {
  name: 'cistern/pg Pool',
  async open(size) {
    const { Pool } = await import('../../src/drivers/pg/index.js');
    // pg-pool's API on the cistern core, same settings as the pg-pool contender
    const pool = new Pool({ max: size, min: size, Client: IdleFakePgClient as never, telemetry: false });
    async function worker(ops: number): Promise<void> {
      for (let i = 0; i < ops; i++) {
        const c = await pool.connect();
        c.release!();
      }
    }
    return {
      name: 'cistern/pg Pool',
      run: (callers, ops) => spawn(callers, () => worker(ops)) as Promise<void>,
      acquire: () => pool.connect(),
      release: (c) => (c as FakePgClient).release!(),
      close: () => pool.end(),
    };
  },
};

/** Every contender, the floor first. */
export const contenders: readonly ContenderSpec[] = [
  bare,
  cistern,
  genericPoolSpec,
  tarn,
  pgPool,
  cisternPgFace,
];
