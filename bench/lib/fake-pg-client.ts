import { EventEmitter } from 'node:events';

/**
 * An in-memory stand-in for pg's Client, exactly the slice pg-pool touches
 * (node_modules/pg-pool/index.js): `connect(cb)`, `end(cb)`, `query(...)`,
 * `ref`/`unref`, the `error`/`end` events and the `_queryable` / `_ending`
 * flags it reads at release. No socket: the pool's own cost is what we measure.
 */
export class FakePgClient extends EventEmitter {
  _queryable = true;
  _ending = false;
  /** Set by pg-pool at checkout. */
  release?: (err?: Error | boolean) => void;

  connect(callback?: (err?: Error) => void): Promise<void> | undefined {
    if (callback) {
      process.nextTick(callback);
      return undefined;
    }
    return Promise.resolve();
  }

  end(callback?: () => void): Promise<void> | undefined {
    this._ending = true;
    this._queryable = false;
    process.nextTick(() => {
      this.emit('end');
      callback?.();
    });
    return callback ? undefined : Promise.resolve();
  }

  query(
    _text: unknown,
    values?: unknown,
    callback?: (err: Error | undefined, res: unknown) => void,
  ): unknown {
    const cb = typeof values === 'function' ? (values as typeof callback) : callback;
    const result = { rows: [], rowCount: 0 };
    if (cb) {
      process.nextTick(cb, undefined, result);
      return undefined;
    }
    return Promise.resolve(result);
  }

  ref(): void {}
  unref(): void {}
}
