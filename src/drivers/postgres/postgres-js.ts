/**
 * The slice of postgres.js that the driver calls. The user-facing `sql` keeps
 * postgres.js's own `Sql` type, so queries stay fully typed; everything the
 * driver touches beyond the public API is declared here and nowhere else.
 */
import postgresjs from 'postgres';

/** The postgres.js tagged template / instance, with its own public typing. */
export type Sql = postgresjs.Sql<{}>;
export type PendingQuery<T extends readonly object[] = postgresjs.Row[]> = postgresjs.PendingQuery<T>;
export type RowList<T extends readonly object[] = postgresjs.Row[]> = postgresjs.RowList<T>;

/** postgres.js options, loosely: the driver only sets the keys it knows. */
export interface PostgresJsOptions {
  host?: string;
  port?: number;
  database?: string;
  username?: string;
  password?: string | (() => string | Promise<string>);
  ssl?: boolean | 'require' | 'allow' | 'prefer' | 'verify-full' | Record<string, unknown>;
  prepare?: boolean;
  fetch_types?: boolean;
  onnotice?: (notice: Record<string, unknown>) => void;
  connection?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * What postgres.js hands to an `options.socket` factory: its parsed options (3.x and 4.x);
 * 4.x also passes the host and port of the attempt as the second and third arguments.
 */
export interface ParsedSocketOptions {
  host: string[];
  port: number[];
  path: string | false | undefined;
  ssl: unknown;
}

/** The parsed options postgres.js exposes as `sql.options` (the part used for the target). */
export interface ParsedOptions extends ParsedSocketOptions {
  database: string;
  user: string;
}

/** A postgres.js query object as it is at run time (a lazy Promise subclass). */
export interface QueryObject {
  strings: readonly string[] & { raw?: readonly string[] };
  args: readonly unknown[];
  executed: boolean;
  handle(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The postgres.js major behind an instance: 4.x parses an `infer` option (a boolean,
 * default false), 3.x has none. Read from the instance so the same build of cistern serves both.
 */
export function postgresMajor(sql: Sql): 3 | 4 {
  return typeof (sql.options as unknown as { infer?: unknown }).infer === 'boolean' ? 4 : 3;
}

export function createSql(url: string | undefined, options: PostgresJsOptions): Sql {
  return (url === undefined
    ? postgresjs(options as never)
    : postgresjs(url, options as never)) as unknown as Sql;
}

export function parsedOptions(sql: Sql): ParsedOptions {
  return sql.options as unknown as ParsedOptions;
}

/** The query classes already given fast properties (one per postgres.js copy loaded). */
const fastened = new WeakSet<object>();

/**
 * Give the class of postgres.js's query objects (`Query`) fast properties, once per class.
 *
 * Why: `Query` extends `Promise` and has a static `[Symbol.species]` getter, a computed
 * static member, so V8 creates the class's constructor function with dictionary-mode
 * properties and leaves it so. Optimizing a derived constructor (its `super()` call) makes
 * V8 depend on the stability of that function's map, which a dictionary map never has:
 * every optimization of `Query` was thrown away at commit ("Bailed out due to dependency
 * change"; TurboFan on Node 20, Maglev on Node 24), tens of times a second, and `Query` ran
 * unoptimized wherever it was not inlined into its caller: up to 20-30 % more CPU per query
 * (docs/postgres.md, "postgres.js's `Query` and V8").
 *
 * How: the old trick for fast properties (Bluebird's `toFastProperties`): an object becomes
 * a prototype, and a property load that misses walks through it, so V8 migrates it to fast
 * properties. Nothing observable changes: no property of the class is read or written.
 */
export function fastenQueryClass(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  const Class = (Object.getPrototypeOf(query) as { constructor?: unknown } | null)?.constructor;
  if (typeof Class !== 'function' || fastened.has(Class)) return;
  fastened.add(Class);
  function Probe(): void {}
  Probe.prototype = Class;
  const probe: object = new (Probe as unknown as new () => object)();
  // a load inside a function, missed a few times: the IC makes the prototypes on its path fast
  for (let i = 0; i < 10; i++) missingProperty(probe);
}

function missingProperty(o: object): unknown {
  return (o as { cisternNoSuchProperty?: unknown }).cisternNoSuchProperty;
}
