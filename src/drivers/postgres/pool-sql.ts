/**
 * `poolSql(pool)`: a postgres.js `Sql` backed by a cistern pool, for tools that take
 * one (drizzle `postgres-js`, kysely-postgres-js) and for the pool-level tagged template.
 *
 * ```ts
 * const sql = poolSql(createPool(postgres(url)));
 * const rows = await sql`select * from users where id = ${id}`; // check out, run, check in
 * await sql.begin(async (tx) => { await tx`insert ...`; await tx.savepoint(async (sp) => ...); });
 * await sql.end(); // closes the pool
 * ```
 *
 * How it works:
 * - A query made on the face is lazy: it records the call (template, `unsafe`, `file`)
 *   and its modifiers (`values`, `raw`, `describe`, `simple`, `forEach`, a callback
 *   `cursor`, ...). When awaited (or `execute()`d) it runs in one `pool.use`: the real
 *   postgres.js query is built on the checked-out connection's `sql` (so telemetry sees
 *   it), the modifiers are replayed, and the connection is checked in when it settles.
 *   Fragments and helpers (`sql\`...\`` inside a template, `sql(obj)`, `sql('name')`,
 *   `sql.json`, `sql.array`, `sql.typed`) are rebuilt on that same connection.
 * - `begin(options?, fn)` is `pool.transaction` (isolation / `read only` parsed from
 *   the options string); `fn` gets the connection's own `sql` plus `savepoint`.
 * - `reserve()` checks a connection out until `release()`.
 * - `options.parsers` / `options.serializers` start empty: keys a tool sets there
 *   (drizzle does) are copied onto every pooled connection the face then uses (see
 *   TypeOverrides): the whole pool parses those types the tool's way.
 * - `end()` / `close()` close the pool.
 * Only the connection's public `sql` and `raw` are used, so this works on postgres.js 3 and 4.
 */
import { finished } from 'node:stream';
import type { BeginOptions, IsolationLevel } from '../../pool/driver.js';
import { ISOLATION_LEVELS } from '../../pool/isolation.js';
import type { Pool } from '../../pool/pool.js';
import type { Sql } from './postgres-js.js';

/** What the face needs of a pooled connection. */
export interface SqlConnection {
  readonly sql: Sql;
  readonly raw: Sql;
}

type Fn = (...args: any[]) => any;
type AnySql = Fn & Record<PropertyKey, any>;
type Make = (sql: AnySql) => any;

/** The face: postgres.js's `Sql`, where `end`/`close` close the pool and `reserve` checks out. */
export type PoolSql = Sql;

/**
 * Parsers / serializers a tool set on `sql.options`. They are copied onto each pooled
 * connection's own postgres.js options before the face first uses it after a change,
 * so every user of that pool then gets them (postgres.js bakes a column's parser into
 * a statement when it is first described, so they could not be undone per query).
 * On postgres.js 4 each face query also carries them as its own parsers
 * (`query.parsers()`), which also covers statements described before the change.
 */
class TypeOverrides {
  readonly parsers: Record<string, Fn>;
  readonly serializers: Record<string, Fn>;
  /** 0 until a key was set: then checkouts pay nothing. */
  version = 0;
  readonly own: Record<string, Fn> = {};
  readonly #serializers: Record<string, Fn> = {};
  readonly #applied = new WeakMap<object, number>();

  constructor() {
    const handler: ProxyHandler<Record<string, Fn>> = {
      set: (target, key, value) => {
        if (typeof value !== 'function') {
          throw new TypeError(
            `sql.options parsers/serializers: ${String(key)} must be a function, got ${typeof value}`,
          );
        }
        this.version++;
        target[key as string] = value;
        return true;
      },
    };
    this.parsers = new Proxy(this.own, handler);
    this.serializers = new Proxy(this.#serializers, handler);
  }

  /** Bring the connection's options up to date (once per connection per change). */
  apply(raw: Sql): void {
    if (this.#applied.get(raw) === this.version) return;
    this.#applied.set(raw, this.version);
    const options = raw.options as unknown as {
      parsers: Record<string, Fn>;
      serializers: Record<string, Fn>;
    };
    Object.assign(options.parsers, this.own);
    Object.assign(options.serializers, this.#serializers);
  }
}

/** A helper call (`sql(obj)`, `sql.json(x)`, ...) made again on the connection that runs the query. */
class LazyHelper {
  constructor(
    readonly method: string | undefined,
    readonly args: unknown[],
  ) {}

  build(sql: AnySql): unknown {
    const args = this.args.map((a) => materializeDeep(a, sql));
    return this.method === undefined ? sql(...args) : sql[this.method](...args);
  }

  // biome-ignore lint/suspicious/noThenProperty: awaiting a helper is a mistake postgres.js reports (synchronously)
  then(): never {
    throw notTaggedError();
  }
  catch(): never {
    throw notTaggedError();
  }
  finally(): never {
    throw notTaggedError();
  }
}

function notTaggedError(): Error {
  const error = new Error('Query not called as a tagged template literal') as Error & { code: string };
  error.code = 'NOT_TAGGED_CALL';
  return error;
}

/** Helpers nested in a helper's objects and rows (`sql({ ints: sql.array([]) })`). */
function materializeDeep(value: unknown, sql: AnySql): unknown {
  if (value instanceof LazyQuery || value instanceof LazyHelper) return value.build(sql);
  if (Array.isArray(value)) {
    return value.some((v) => typeof v === 'object' && v !== null)
      ? value.map((v) => materializeDeep(v, sql))
      : value;
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      if (v instanceof LazyQuery || v instanceof LazyHelper) {
        copy ??= { ...(value as Record<string, unknown>) };
        copy[key] = v.build(sql);
      }
    }
    return copy ?? value;
  }
  return value;
}

function materialize(value: unknown, sql: AnySql): unknown {
  if (value instanceof LazyQuery || value instanceof LazyHelper) return value.build(sql);
  if (Array.isArray(value) && value.some((v) => v instanceof LazyQuery || v instanceof LazyHelper)) {
    return value.map((v) => materialize(v, sql));
  }
  return value;
}

function cancelledError(): Error {
  const error = new Error('canceling statement due to user request') as Error & { code: string };
  error.code = '57014';
  return error;
}

/** A query made on the face: runs on one checkout when awaited or executed. */
class LazyQuery {
  readonly #face: Face;
  readonly #make: Make;
  #mods: [string, unknown[]][] | undefined;
  #promise: Promise<any> | undefined;
  #real: { cancel(): unknown } | undefined;
  #cancelled = false;

  constructor(face: Face, make: Make) {
    this.#face = face;
    this.#make = make;
  }

  /** The real postgres.js query on `sql`, with the recorded modifiers. */
  build(sql: AnySql): any {
    if (this.#cancelled) throw cancelledError();
    let query = this.#make(sql);
    if (this.#mods !== undefined) {
      for (const [method, args] of this.#mods) {
        const next = method === 'cursor' ? query.cursor(...withClose(args, sql)) : query[method](...args);
        if (next !== undefined && method !== 'forEach') query = next;
      }
    }
    this.#real = query;
    return query;
  }

  #mod(method: string, args: unknown[]): this {
    if (this.#promise !== undefined) {
      throw new TypeError(`sql query: .${method}() must be called before the query runs`);
    }
    (this.#mods ??= []).push([method, args]);
    return this;
  }

  #run(): Promise<any> {
    if (this.#promise === undefined) {
      this.#promise = this.#cancelled
        ? Promise.reject(cancelledError())
        : this.#face.run((sql) => this.build(sql));
    }
    return this.#promise;
  }

  // biome-ignore lint/suspicious/noThenProperty: a postgres.js query is a thenable
  then(onFulfilled?: Fn, onRejected?: Fn): Promise<any> {
    return this.#run().then(onFulfilled, onRejected);
  }
  catch(onRejected?: Fn): Promise<any> {
    return this.#run().catch(onRejected);
  }
  finally(onFinally?: () => void): Promise<any> {
    return this.#run().finally(onFinally);
  }
  execute(): this {
    this.#run().catch(() => {}); // the caller's await sees the rejection
    return this;
  }
  /** Before it runs: it rejects with 57014 when it would start. Running: postgres.js's own cancel. */
  cancel(): void {
    this.#cancelled = true;
    this.#real?.cancel();
  }
  values(): this {
    return this.#mod('values', []);
  }
  raw(): this {
    return this.#mod('raw', []);
  }
  describe(): this {
    return this.#mod('describe', []);
  }
  simple(): this {
    return this.#mod('simple', []);
  }
  forEach(fn: Fn): this {
    return this.#mod('forEach', [fn]);
  }
  /** postgres.js 4: per-query parsers, transform and abort signal. */
  parsers(parsers: unknown): this {
    return this.#mod('parsers', [parsers]);
  }
  transform(transform: unknown): this {
    return this.#mod('transform', [transform]);
  }
  signal(signal: AbortSignal): this {
    return this.#mod('signal', [signal]);
  }
  stream(): never {
    throw new Error('.stream has been renamed to .forEach');
  }

  /** With a callback: runs on one checkout when awaited. Without: an async iterable holding one checkout until it ends. */
  cursor(rows?: number | Fn, fn?: Fn): any {
    if (typeof rows === 'function' || typeof fn === 'function') return this.#mod('cursor', [rows, fn]);
    const size = rows ?? 1;
    return this.#face.iterate((sql) => this.build(sql).cursor(size));
  }

  /** COPY ... TO STDOUT: the connection is checked in when the stream ends. */
  readable(): Promise<NodeJS.ReadableStream> {
    return this.#face.stream((sql) => this.build(sql).readable());
  }
  /** COPY ... FROM STDIN: the connection is checked in when the stream finishes. */
  writable(): Promise<NodeJS.WritableStream> {
    return this.#face.stream((sql) => this.build(sql).writable());
  }
}

/** `sql.CLOSE` of the face: returned from a cursor callback, it stops the cursor. */
export const CLOSE: object = Object.freeze({ close: 'cistern poolSql CLOSE' });

/** A cursor callback that may return the face's CLOSE gets the connection's own. */
function withClose(args: unknown[], sql: AnySql): unknown[] {
  const [rows, fn] = typeof args[0] === 'function' ? [1, args[0] as Fn] : [args[0], args[1] as Fn];
  const close = sql.CLOSE;
  const wrapped = (...a: unknown[]): unknown => {
    const result = fn(...a);
    if (result === CLOSE) return close;
    if (result instanceof Promise) return result.then((r) => (r === CLOSE ? close : r));
    return result;
  };
  return [rows ?? 1, wrapped];
}

/** `isolation level <level>`, any spacing: the levels are the core's one table (src/pool/isolation.ts). */
const ISOLATION = new RegExp(
  `\\bisolation\\s+level\\s+(${ISOLATION_LEVELS.map((level) => level.replace(' ', '\\s+')).join('|')})\\b`,
);

/** `sql.begin('isolation level serializable read only', fn)` -> pool.transaction options. */
export function parseBeginOptions(text: string): BeginOptions {
  const normalized = text.toLowerCase().replace(/\s+/g, ' ').trim();
  const options: BeginOptions = {};
  let rest = normalized;
  const isolation = ISOLATION.exec(normalized);
  if (isolation !== null) {
    options.isolation = isolation[1]!.replace(/\s+/g, ' ') as IsolationLevel;
    rest = rest.replace(isolation[0], ' ');
  }
  if (/\bread only\b/.test(rest)) {
    options.readOnly = true;
    rest = rest.replace(/\bread only\b/, ' ');
  } else if (/\bread write\b/.test(rest)) {
    rest = rest.replace(/\bread write\b/, ' ');
  }
  if (rest.replace(/[ ,]/g, '') !== '') {
    throw new TypeError(
      `sql.begin(options): cannot use ${JSON.stringify(text)}: allowed are "isolation level <${ISOLATION_LEVELS.join('|')}>", "read only" and "read write"`,
    );
  }
  return options;
}

const SAVEPOINT_NAME = /^[A-Za-z0-9_]+$/;

/** The state one pool face shares between its queries. */
class Face {
  readonly pool: Pool<SqlConnection>;
  readonly types = new TypeOverrides();
  /** The first connection the face used: where `sql.parameters` and `sql.PostgresError` come from. */
  seen: AnySql | undefined;

  constructor(pool: Pool<SqlConnection>) {
    this.pool = pool;
  }

  run(make: Make): Promise<any> {
    const types = this.types;
    return this.pool.use((c) => {
      if (this.seen === undefined) this.seen = c.raw as unknown as AnySql;
      if (types.version === 0) return make(c.sql as unknown as AnySql);
      types.apply(c.raw);
      const query = make(c.sql as unknown as AnySql);
      return typeof query.parsers === 'function' ? query.parsers(types.own) : query;
    });
  }

  /** Check out, and hand back when the callback's promise settles (`finish`) or now on failure. */
  async #checkout(): Promise<{ c: SqlConnection; finish: (error?: unknown) => void }> {
    const c = await this.pool.acquire();
    if (this.types.version !== 0) this.types.apply(c.raw);
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      if (error !== undefined && this.pool.driver.isDisconnect(error)) this.pool.invalidate(c, error);
      else this.pool.release(c);
    };
    return { c, finish };
  }

  async *iterate(make: (sql: AnySql) => AsyncIterable<unknown>): AsyncGenerator<any> {
    const { c, finish } = await this.#checkout();
    let failure: unknown;
    try {
      yield* make(c.sql as unknown as AnySql);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      finish(failure);
    }
  }

  async stream<S extends NodeJS.ReadableStream | NodeJS.WritableStream>(
    make: (sql: AnySql) => Promise<S>,
  ): Promise<S> {
    const { c, finish } = await this.#checkout();
    let stream: S;
    try {
      stream = await make(c.sql as unknown as AnySql);
    } catch (error) {
      finish(error);
      throw error;
    }
    finished(stream as never, (error) => finish(error ?? undefined));
    return stream;
  }

  /** The connection's `sql` with the face's extra members (`savepoint`, `release`, ...). */
  scoped(c: SqlConnection, extra: Record<PropertyKey, unknown>): AnySql {
    return new Proxy(c.sql as unknown as AnySql, {
      get(target, property) {
        return Object.hasOwn(extra, property) ? extra[property] : Reflect.get(target, property, target);
      },
    });
  }

  /** The `sql` a transaction callback gets: the connection's own, plus savepoints. */
  transactionSql(c: SqlConnection): AnySql {
    let savepoints = 0;
    const extra: Record<PropertyKey, unknown> = {
      begin: () => {
        throw new TypeError('sql.begin() inside a transaction: use sql.savepoint(fn) to nest');
      },
      reserve: notInScope('reserve'),
      end: notInScope('end'),
      close: notInScope('close'),
      savepoint: async (name: string | Fn, body?: Fn) => {
        if (typeof name === 'function') [body, name] = [name, ''];
        if (typeof body !== 'function')
          throw new TypeError('sql.savepoint([name], fn): fn must be a function');
        if (name !== '' && !SAVEPOINT_NAME.test(name)) {
          throw new TypeError(
            `sql.savepoint(name, fn): name ${JSON.stringify(name)} may hold only letters, digits and _`,
          );
        }
        const id = `s${++savepoints}${name === '' ? '' : `_${name}`}`;
        await c.sql.unsafe(`savepoint ${id}`);
        let result: unknown;
        try {
          // an array returned (not resolved) is a list of queries to await, as in postgres.js
          const returned = body(tx);
          result = await (Array.isArray(returned) ? Promise.all(returned) : returned);
        } catch (error) {
          await c.sql.unsafe(`rollback to savepoint ${id}`);
          throw error;
        }
        await c.sql.unsafe(`release savepoint ${id}`);
        return result;
      },
    };
    const tx = this.scoped(c, extra);
    return tx;
  }
}

function notInScope(name: string): () => never {
  return () => {
    throw new TypeError(`sql.${name}() is not available inside sql.begin(): the pool owns this connection`);
  };
}

/** A postgres.js `Sql` over `pool`: every query checks a connection out, runs, and checks it in. */
export function poolSql<C extends SqlConnection>(pool: Pool<C>): PoolSql {
  const face = new Face(pool as unknown as Pool<SqlConnection>);
  const lazy = (make: Make): LazyQuery => new LazyQuery(face, make);
  const sql = function sql(first: unknown, ...args: unknown[]): unknown {
    if (typeof first === 'object' && first !== null && Array.isArray((first as { raw?: unknown }).raw)) {
      const strings = first as TemplateStringsArray;
      return lazy((s) => s(strings, ...args.map((a) => materialize(a, s))));
    }
    return new LazyHelper(undefined, [first, ...args]);
  } as AnySql;
  const helper =
    (method: string) =>
    (...args: unknown[]): LazyHelper =>
      new LazyHelper(method, args);
  const options = {
    parsers: face.types.parsers,
    serializers: face.types.serializers,
  };
  const close = (opts?: { timeout?: number }): Promise<void> =>
    pool.close(opts?.timeout === undefined ? undefined : { timeoutMs: opts.timeout * 1000 });
  Object.defineProperties(sql, {
    // the server's parameters and postgres.js's error class, as seen on the first connection used
    parameters: { get: () => face.seen?.parameters ?? {}, enumerable: true },
    PostgresError: { get: () => face.seen?.PostgresError, enumerable: true },
  });
  Object.assign(sql, {
    options,
    CLOSE,
    END: CLOSE,
    unsafe: (...args: unknown[]) => lazy((s) => s.unsafe(...args.map((a) => materialize(a, s)))),
    file: (...args: unknown[]) => lazy((s) => s.file(...args)),
    json: helper('json'),
    array: helper('array'),
    typed: helper('typed'),
    identifier: helper('identifier'),
    notify: (channel: string, payload: string) =>
      lazy((s) => s`select pg_notify(${channel}, ${String(payload)})`),
    begin: (first: string | Fn, second?: Fn) => {
      const fn = typeof first === 'function' ? first : second;
      if (typeof fn !== 'function') throw new TypeError('sql.begin([options], fn): fn must be a function');
      const begin = typeof first === 'string' ? parseBeginOptions(first) : {};
      return pool.transaction(async (c) => {
        if (face.types.version !== 0) face.types.apply(c.raw);
        // an array returned (not resolved) is a list of queries to await, as in postgres.js
        const returned = fn(face.transactionSql(c));
        return Array.isArray(returned) ? Promise.all(returned) : returned;
      }, begin);
    },
    reserve: async (opts?: { signal?: AbortSignal }) => {
      const c = await pool.acquire(opts?.signal === undefined ? undefined : { signal: opts.signal });
      if (face.types.version !== 0) face.types.apply(c.raw);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        pool.release(c);
      };
      const extra: Record<PropertyKey, unknown> = {
        release,
        begin: notInScope('begin'),
        reserve: notInScope('reserve'),
        end: notInScope('end'),
        close: notInScope('close'),
      };
      if (Symbol.dispose !== undefined) extra[Symbol.dispose] = release;
      if (Symbol.asyncDispose !== undefined) extra[Symbol.asyncDispose] = async () => release();
      return face.scoped(c, extra);
    },
    listen: () => {
      throw new TypeError(
        'sql.listen() is not supported on a pool face: LISTEN needs a connection of its own',
      );
    },
    subscribe: () => {
      throw new TypeError(
        'sql.subscribe() is not supported on a pool face: replication needs a connection of its own',
      );
    },
    end: close,
    close,
  });
  if (Symbol.asyncDispose !== undefined) (sql as AnySql)[Symbol.asyncDispose] = () => close();
  return sql as unknown as PoolSql;
}
