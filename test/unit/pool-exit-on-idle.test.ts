import { describe, expect, it } from 'vitest';
import { Pool } from '../../src/pool/pool.js';
import { FakeDriver } from '../support/fake-driver.js';
import { tick, track, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

/** A fake driver that records the idle hook: [connection id, idle]. */
function recordingDriver() {
  const driver = new FakeDriver();
  const calls: [number, boolean][] = [];
  (driver as FakeDriver & { setIdle(c: { id: number }, idle: boolean): void }).setIdle = (c, idle) => {
    calls.push([c.id, idle]);
  };
  return { driver, calls };
}

describe('allowExitOnIdle', () => {
  it('tells the driver when a connection goes idle and when it leaves the idle list', async () => {
    const { driver, calls } = recordingDriver();
    const pool = track(
      new Pool(driver, { telemetry: false, allowExitOnIdle: true, size: 2, prePing: false }),
    );
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(calls).toEqual([]); // handed out fresh: never idle
    pool.release(a);
    pool.release(b);
    expect(calls).toEqual([
      [a.id, true],
      [b.id, true],
    ]);
    const again = await pool.acquire(); // lifo: b
    expect(calls.at(-1)).toEqual([b.id, false]);
    pool.release(again);
    expect(calls.at(-1)).toEqual([b.id, true]);
    // an idle connection that is closed leaves the idle list too
    pool.clear();
    expect(calls.slice(-2).map(([, idle]) => idle)).toEqual([false, false]);
    await tick();
  });

  it('a hook that throws is ignored; without the option the hook is never called', async () => {
    const { driver, calls } = recordingDriver();
    const pool = track(new Pool(driver, { telemetry: false, size: 1 }));
    pool.release(await pool.acquire());
    pool.release(await pool.acquire());
    expect(calls).toEqual([]);

    const throwing = new FakeDriver();
    (throwing as FakeDriver & { setIdle(): void }).setIdle = () => {
      throw new Error('hook bug');
    };
    const other = track(new Pool(throwing, { telemetry: false, allowExitOnIdle: true, size: 1 }));
    other.release(await other.acquire());
    other.release(await other.acquire());
    expect(other.stats()).toMatchObject({ idle: 1, used: 0 });
  });

  it('rejects a non-boolean', () => {
    expect(() => new Pool(new FakeDriver(), { allowExitOnIdle: 'yes' as unknown as boolean })).toThrow(
      /invalid pool option allowExitOnIdle: got "yes", expected true or false/,
    );
  });
});
