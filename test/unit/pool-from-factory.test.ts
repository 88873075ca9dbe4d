import { describe, expect, it } from 'vitest';
import type { ConnectContext } from '../../src/pool/driver.js';
import { ConnectError, PoolMisuseError } from '../../src/pool/errors.js';
import { fromFactory, type ResourceFactory } from '../../src/pool/from-factory.js';
import { Pool } from '../../src/pool/pool.js';
import { rejection, tick, track, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

class Resource {
  alive = true;
  resets = 0;
  destroyed = false;
  constructor(readonly n: number) {}
}

class Factory implements ResourceFactory<Resource> {
  created = 0;
  destroyed: Resource[] = [];
  validated = 0;
  create(): Promise<Resource> {
    return Promise.resolve(new Resource(++this.created));
  }
  destroy(r: Resource): void {
    r.destroyed = true;
    this.destroyed.push(r);
  }
  validate(r: Resource): Promise<boolean> {
    this.validated++;
    return Promise.resolve(r.alive);
  }
  reset(r: Resource): void {
    r.resets++;
  }
}

function ctx(): ConnectContext {
  return { connectionId: 1, timeoutMs: 1000, signal: new AbortController().signal, onDead: () => undefined };
}

describe('fromFactory()', () => {
  it('maps create, destroy, validate and reset onto a Driver, calling them on the factory', async () => {
    const factory = new Factory();
    const driver = fromFactory(factory);
    expect(driver.name).toBe('factory');
    const r = await driver.connect(ctx());
    expect(r).toBeInstanceOf(Resource);
    expect(await driver.ping(r)).toBe(true);
    r.alive = false;
    expect(await driver.ping(r)).toBe(false);
    await driver.reset!(r);
    expect(r.resets).toBe(1);
    await driver.close(r);
    expect(factory.destroyed).toEqual([r]);
    expect(driver.isDisconnect(new Error('x'))).toBe(false);
    expect(driver.begin).toBeUndefined();
  });

  it('pools the resources: create on demand, reuse, destroy on close', async () => {
    const factory = new Factory();
    const pool = track(new Pool(fromFactory(factory), { size: 2, telemetry: false }));
    const a = await pool.acquire();
    pool.release(a);
    expect(await pool.acquire()).toBe(a);
    expect(factory.created).toBe(1);
    expect(a.resets).toBe(1);
    pool.release(a);
    await pool.close();
    expect(factory.destroyed).toEqual([a]);
  });

  it('validate false means dead: prePing destroys the resource and creates a new one', async () => {
    const factory = new Factory();
    const pool = track(new Pool(fromFactory(factory), { telemetry: false }));
    const a = await pool.acquire();
    pool.release(a);
    await tick(1000);
    a.alive = false;
    const b = await pool.acquire();
    expect(b).not.toBe(a);
    expect(factory.validated).toBe(1);
    expect(a.destroyed).toBe(true);
    pool.release(b);
  });

  it('a validate that throws or rejects means dead too; a truthy non-true value is not alive', async () => {
    for (const validate of [
      () => {
        throw new Error('boom');
      },
      () => Promise.reject(new Error('boom')),
      () => 'yes' as unknown as boolean,
    ]) {
      const driver = fromFactory({ create: () => ({}), destroy: () => undefined, validate });
      const ok = await driver.ping({}).then(
        (v) => v === true,
        () => false,
      );
      expect(ok).toBe(false);
    }
  });

  it('without validate every resource counts as alive; without reset there is none', async () => {
    const driver = fromFactory({ create: () => ({ id: 1 }), destroy: () => undefined });
    expect(await driver.ping({ id: 1 })).toBe(true);
    expect(driver.reset).toBeUndefined();
  });

  it('a synchronous create works; a failing create is a ConnectError with the cause', async () => {
    let n = 0;
    const failure = new Error('no more sockets');
    const pool = track(
      new Pool(
        fromFactory({
          create: () => {
            if (++n === 2) throw failure;
            return { n };
          },
          destroy: () => undefined,
        }),
        { telemetry: false, size: 2 },
      ),
    );
    const first = await pool.acquire();
    expect(first).toEqual({ n: 1 });
    const error = (await rejection(pool.acquire())) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.cause).toBe(failure);
    pool.release(first);
  });

  it('isDisconnect is used by use(): a matching error destroys the resource', async () => {
    const destroyed: unknown[] = [];
    const pool = track(
      new Pool(
        fromFactory({
          create: () => ({}),
          destroy: (r) => {
            destroyed.push(r);
          },
          isDisconnect: (e) => (e as Error).message === 'EPIPE',
        }),
        { telemetry: false },
      ),
    );
    await rejection(pool.use(() => Promise.reject(new Error('EPIPE'))));
    expect(destroyed).toHaveLength(1);
    await rejection(pool.use(() => Promise.reject(new Error('other'))));
    expect(destroyed).toHaveLength(1);
  });

  it('target names the pool; the default target is a unique generic one', () => {
    const named = fromFactory({
      create: () => ({}),
      destroy: () => undefined,
      target: { system: 'redis', host: 'cache', port: 6379 },
    });
    expect(track(new Pool(named, { telemetry: false })).name).toBe('cache:6379');
    const d1 = fromFactory({ create: () => ({}), destroy: () => undefined });
    const d2 = fromFactory({ create: () => ({}), destroy: () => undefined });
    expect(d1.target.system).toBe('generic');
    expect(d1.target.host).not.toBe(d2.target.host);
  });

  it('transaction() on a factory pool is a misuse (no begin/commit/rollback)', async () => {
    const pool = track(new Pool(fromFactory(new Factory()), { telemetry: false }));
    await expect(pool.transaction(async () => 1)).rejects.toBeInstanceOf(PoolMisuseError);
  });

  it('rejects bad factory input with a TypeError naming what is wrong', () => {
    expect(() => fromFactory(undefined as never)).toThrow(/factory must be an object/);
    expect(() => fromFactory('x' as never)).toThrow(TypeError);
    expect(() => fromFactory({ create: () => 1 } as never)).toThrow(/destroy: undefined/);
    expect(() => fromFactory({ create: 1, destroy: () => undefined } as never)).toThrow(/create: number/);
    expect(() => fromFactory({ create: () => 1, destroy: () => undefined, validate: true } as never)).toThrow(
      /factory.validate must be a function when given \(got boolean\)/,
    );
    expect(() => fromFactory({ create: () => 1, destroy: () => undefined, reset: 'x' } as never)).toThrow(
      /factory.reset/,
    );
    expect(() =>
      fromFactory({ create: () => 1, destroy: () => undefined, isDisconnect: {} } as never),
    ).toThrow(/factory.isDisconnect/);
  });
});
