/**
 * The drivers the soak runs, one entry each (`SOAK_TARGETS`). Adding a driver is
 * one entry: its name, the server it needs, how to build the cistern driver for a
 * URL (through the fault proxy), and which SQL dialect it speaks — the dialect
 * (below) owns the admin side: tables, the server-side connection count, backend
 * kills, the ledger check.
 *
 * Every pooled connection must offer `query(text, params)`; it resolves to an array
 * of row objects, or to what the target's `rows` turns into one (pg's Result).
 *
 * postgres.js 3 and 4: the driver imports `postgres`, so one process runs one major.
 * `CISTERN_TEST_POSTGRES=3` makes `postgres` load the `postgres3` devDependency (vitest's
 * alias in vitest.config.ts; bench/soak/main.ts registers postgres3-hooks.mjs), and
 * `LOADED_POSTGRES_JS_MAJOR` says which one this process has. A target with
 * `postgresJsMajor` runs only where that major is loaded: `npm run soak` runs it in a child
 * process with the variable set; vitest in the CISTERN_TEST_POSTGRES=3 run (.ci/run).
 */
import { readFileSync } from 'node:fs';
import { createConnection, type Connection as MariadbAdmin } from 'mariadb';
import postgresjs from 'postgres';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { pg } from '../../src/drivers/pg/index.js';
import { postgres } from '../../src/drivers/postgres/index.js';
import { postgresMajor, type Sql } from '../../src/drivers/postgres/postgres-js.js';
import type { Driver } from '../../src/index.js';
import { MARIADB_URL, PG_URL } from '../../test/support/servers.js';

/** The postgres.js major `import 'postgres'` gives this process (read off an instance; no socket is opened). */
export const LOADED_POSTGRES_JS_MAJOR: 3 | 4 = postgresMajor(
  postgresjs({ host: '127.0.0.1', port: 1, max: 1 }) as unknown as Sql,
);

/** Name and version of an installed package (a folder of node_modules), e.g. `postgres3` -> `postgres@3.4.9`. */
export function installedPackage(dir: string): string {
  const file = new URL(`../../node_modules/${dir}/package.json`, import.meta.url);
  const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
  return `${name}@${version}`;
}

/** What the soak calls on a pooled connection (or a transaction). */
export interface SqlConnection {
  query(text: string, params?: readonly unknown[]): Promise<readonly Record<string, unknown>[]>;
}

/** One soak run's names on the server: tables, and the tag that marks its connections. */
export interface SoakNames {
  /** application_name (PostgreSQL) or database (MariaDB) of every pooled connection. */
  tag: string;
  accounts: string;
  transfers: string;
}

/** The admin side of a dialect: a direct connection (not through the proxy), opened once per run. */
export interface SoakAdmin {
  /** Create the tables with `accounts` rows of `balance` each. */
  setup(accounts: number, balance: number): Promise<void>;
  /**
   * The backends the server shows with this run's tag now (the bound check counts them),
   * leaving out only backends the soak itself terminated (`killBackends`), which linger
   * while they exit. Backends of connections the pool is closing are included: the pool
   * counts them too (CLOSING) until the driver's close settles.
   */
  serverConnections(): Promise<ServerBackend[]>;
  /** Every backend the server shows with this run's tag now, none left out (the check after close). */
  remainingConnections(): Promise<ServerBackend[]>;
  /** The server's name and version, e.g. `PostgreSQL 15.10`. */
  serverVersion(): Promise<string>;
  /** Terminate every backend with this run's tag (never anyone else's); resolves how many. */
  killBackends(): Promise<number>;
  /** Balances by account id, and the transfer log. */
  ledger(): Promise<{ balances: Map<number, number>; transfers: LoggedTransfer[] }>;
  /** Drop what setup created; close the admin connection. */
  teardown(): Promise<void>;
}

/** One backend of the run, as the server shows it. */
export interface ServerBackend {
  /** pid (PostgreSQL) or thread id (MariaDB): what `SoakTarget.backendId` gives for a pooled connection. */
  id: number;
  /** The client's port as the server sees it: the proxy's local port towards the server. */
  port: number;
  /** What the backend is doing (state or wait event; MariaDB: command / state). */
  state: string;
}

export interface LoggedTransfer {
  id: string;
  src: number;
  dst: number;
  amount: number;
}

export interface SoakDialect {
  /** The URL the pool should use for this run (the database may be the run's own). */
  poolUrl(serverUrl: string, names: SoakNames): string;
  admin(serverUrl: string, names: SoakNames): Promise<SoakAdmin>;
  /** `SELECT <param> AS n`: checks the answer belongs to the question. */
  echo: string;
  /** Read both balances (a serializable read, so concurrent transfers conflict). */
  readBalances(names: SoakNames): string;
  /** Parameters (amount, account id). */
  debit(names: SoakNames): string;
  /** Parameters (amount, account id). */
  credit(names: SoakNames): string;
  /** Parameters (id, src, dst, amount). */
  logTransfer(names: SoakNames): string;
}

export interface SoakTarget {
  /** Shown in the report, used as the filter of `npm run soak -- <filter>`. */
  name: string;
  server: 'PostgreSQL' | 'MariaDB';
  /** The real server (the proxy's upstream); the env variable that overrides it. */
  serverUrl: string;
  urlVariable: string;
  dialect: SoakDialect;
  /** The package the driver runs on, as installed (`npm:` aliases by their folder): `postgres3`, `pg`... */
  driverPackage: string;
  /**
   * The postgres.js major the target needs loaded (see the top of this file); undefined:
   * the target does not run on postgres.js (it runs where the default, 4, is loaded).
   */
  postgresJsMajor?: 3 | 4;
  /** The cistern driver for `url` (the proxy's), tagging its connections with `tag` when the dialect needs it. */
  driver(url: string, tag: string): Driver<SqlConnection>;
  /** The server-side id of a pooled connection (backend pid, thread id). */
  backendId(conn: unknown): number;
  /** The rows of what `query` resolved to, when that is not the array itself (pg's `Result`). */
  rows?(result: unknown): readonly Record<string, unknown>[];
}

export const postgresDialect: SoakDialect = {
  poolUrl: (serverUrl) => serverUrl,
  async admin(serverUrl, names) {
    const sql = postgresjs(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    const { accounts, transfers, tag } = names;
    // A backend told to terminate still shows in pg_stat_activity until it has exited, while
    // the pool, which got its FATAL, may already have opened the replacement: those pids are
    // not connections the pool holds, so the bound check leaves them out.
    const terminated: number[] = [];
    const backends = async (leftOut: readonly number[]): Promise<ServerBackend[]> => {
      const rows = await sql`select pid, client_port,
            coalesce(wait_event_type || ':' || wait_event, state, '') as state
          from pg_stat_activity
          where application_name = ${tag} and pid <> all(${leftOut as number[]}::int[])`;
      return rows.map((r) => ({ id: Number(r.pid), port: Number(r.client_port), state: String(r.state) }));
    };
    return {
      async setup(count, balance) {
        await sql.unsafe(`drop table if exists ${accounts}, ${transfers}`);
        await sql.unsafe(`create table ${accounts} (id int primary key, balance bigint not null)`);
        await sql.unsafe(
          `create table ${transfers} (id text primary key, src int not null, dst int not null, amount int not null)`,
        );
        await sql.unsafe(`insert into ${accounts} select g, $1 from generate_series(1, $2) g`, [
          balance,
          count,
        ]);
      },
      serverConnections: () => backends(terminated),
      async serverVersion() {
        const [row] = await sql`select current_setting('server_version') as v`;
        return `PostgreSQL ${String(row.v).split(' ')[0]}`;
      },
      remainingConnections: () => backends([]),
      async killBackends() {
        const rows = await sql`select pid, pg_terminate_backend(pid) as ok from pg_stat_activity
          where application_name = ${tag} and pid <> pg_backend_pid()`;
        for (const r of rows) if (r.ok) terminated.push(Number(r.pid));
        return rows.filter((r) => r.ok).length;
      },
      async ledger() {
        const balances = await sql.unsafe(`select id, balance::float8 as balance from ${accounts}`);
        const log = await sql.unsafe(`select id, src, dst, amount from ${transfers}`);
        return {
          balances: new Map(balances.map((r) => [Number(r.id), Number(r.balance)])),
          transfers: log.map((r) => ({
            id: String(r.id),
            src: Number(r.src),
            dst: Number(r.dst),
            amount: Number(r.amount),
          })),
        };
      },
      async teardown() {
        try {
          await sql.unsafe(`drop table if exists ${accounts}, ${transfers}`);
        } finally {
          await sql.end({ timeout: 5 });
        }
      },
    };
  },
  echo: 'select $1::int as n',
  readBalances: (n) => `select id, balance from ${n.accounts} where id in ($1, $2)`,
  debit: (n) => `update ${n.accounts} set balance = balance - $1 where id = $2`,
  credit: (n) => `update ${n.accounts} set balance = balance + $1 where id = $2`,
  logTransfer: (n) => `insert into ${n.transfers} (id, src, dst, amount) values ($1, $2, $3, $4)`,
};

/** MariaDB marks a run's connections by a database of its own (processlist `DB`). */
export const mysqlDialect: SoakDialect = {
  poolUrl(serverUrl, names) {
    const u = new URL(serverUrl);
    u.pathname = `/${names.tag}`;
    return u.toString();
  },
  async admin(serverUrl, names) {
    const u = new URL(serverUrl);
    const conn: MariadbAdmin = await createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: u.password ? decodeURIComponent(u.password) : undefined,
      connectTimeout: 10_000,
    });
    const db = names.tag;
    const { accounts, transfers } = names;
    const backends = async (): Promise<ServerBackend[]> => {
      const rows: { id: bigint | number; host: string; command: string; state: string | null }[] =
        await conn.query(
          'SELECT id, host, command, state FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
          [db],
        );
      return rows.map((r) => ({
        id: Number(r.id),
        port: Number(String(r.host).split(':').pop()),
        state: `${r.command}${r.state ? `:${r.state}` : ''}`,
      }));
    };
    return {
      async setup(count, balance) {
        await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await conn.query(`CREATE DATABASE \`${db}\``);
        await conn.query(`CREATE TABLE \`${db}\`.${accounts} (id INT PRIMARY KEY, balance BIGINT NOT NULL)`);
        await conn.query(
          `CREATE TABLE \`${db}\`.${transfers} (id VARCHAR(64) PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL)`,
        );
        await conn.query(
          `INSERT INTO \`${db}\`.${accounts} SELECT seq, ? FROM \`${db}\`.seq_1_to_${Math.trunc(count)}`,
          [balance],
        );
      },
      serverConnections: backends,
      async serverVersion() {
        const [row]: { v: string }[] = await conn.query('SELECT VERSION() AS v');
        return `MariaDB ${row.v.split('-')[0]}`;
      },
      remainingConnections: backends,
      async killBackends() {
        let killed = 0;
        for (const { id } of await backends()) {
          try {
            await conn.query(`KILL CONNECTION ${id}`);
            killed++;
          } catch (error) {
            if ((error as { errno?: number }).errno !== 1094) throw error; // already gone
          }
        }
        return killed;
      },
      async ledger() {
        const balances: { id: number; balance: unknown }[] = await conn.query(
          `SELECT id, balance FROM \`${db}\`.${accounts}`,
        );
        const log: { id: string; src: number; dst: number; amount: number }[] = await conn.query(
          `SELECT id, src, dst, amount FROM \`${db}\`.${transfers}`,
        );
        return {
          balances: new Map(balances.map((r) => [Number(r.id), Number(r.balance)])),
          transfers: log.map((r) => ({
            id: String(r.id),
            src: Number(r.src),
            dst: Number(r.dst),
            amount: Number(r.amount),
          })),
        };
      },
      async teardown() {
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
        } finally {
          await conn.end();
        }
      },
    };
  },
  echo: 'SELECT CAST(? AS SIGNED) AS n',
  readBalances: (n) => `SELECT id, balance FROM ${n.accounts} WHERE id IN (?, ?)`,
  debit: (n) => `UPDATE ${n.accounts} SET balance = balance - ? WHERE id = ?`,
  credit: (n) => `UPDATE ${n.accounts} SET balance = balance + ? WHERE id = ?`,
  logTransfer: (n) => `INSERT INTO ${n.transfers} (id, src, dst, amount) VALUES (?, ?, ?, ?)`,
};

/**
 * PostgreSQL keeps a backend whose client vanished while it waits on a lock (or runs a
 * query) until it next reads the socket: after a cut, the server showed up to twice
 * size + maxOverflow backends for a moment (the orphans waiting on row locks, plus the
 * pool's new connections). `client_connection_check_interval` (PostgreSQL 14+, per
 * session) makes such a backend notice within the interval; the soak sets it, as a
 * service that cares about its server-side connection count should.
 */
export const CLIENT_CHECK = '100ms';

/** Every driver the soak runs. One entry per driver; `npm run soak -- <name>` picks some. */
export const SOAK_TARGETS: readonly SoakTarget[] = [
  postgresJsTarget(4),
  postgresJsTarget(3),
  {
    name: 'pg',
    driverPackage: 'pg',
    server: 'PostgreSQL',
    serverUrl: PG_URL,
    urlVariable: 'PG_URL',
    dialect: postgresDialect,
    driver: (url, tag) =>
      pg({
        connectionString: url,
        application_name: tag,
        options: `-c client_connection_check_interval=${CLIENT_CHECK}`,
      }) as unknown as Driver<SqlConnection>,
    backendId: (conn) => (conn as { pid: number }).pid,
    rows: (result) => (result as { rows: Record<string, unknown>[] }).rows,
  },
  {
    name: 'mariadb',
    server: 'MariaDB',
    serverUrl: MARIADB_URL,
    urlVariable: 'MARIADB_URL',
    dialect: mysqlDialect,
    driverPackage: 'mariadb',
    driver: (url) => mariadb(url) as unknown as Driver<SqlConnection>,
    backendId: (conn) => (conn as { threadId: number }).threadId,
  },
];

/** The postgres.js driver on major 4 (`postgres.js`) or 3 (`postgres.js 3`): the same entry, another package. */
function postgresJsTarget(major: 3 | 4): SoakTarget {
  return {
    name: major === 4 ? 'postgres.js' : `postgres.js ${major}`,
    server: 'PostgreSQL',
    serverUrl: PG_URL,
    urlVariable: 'PG_URL',
    dialect: postgresDialect,
    driverPackage: major === 4 ? 'postgres' : `postgres${major}`,
    postgresJsMajor: major,
    driver(url, tag) {
      if (LOADED_POSTGRES_JS_MAJOR !== major)
        throw new Error(
          `the postgres.js ${major} soak needs postgres.js ${major} loaded, this process has ${LOADED_POSTGRES_JS_MAJOR} ` +
            `(CISTERN_TEST_POSTGRES=${major})`,
        );
      return postgres(url, {
        applicationName: tag,
        postgresOptions: { connection: { client_connection_check_interval: CLIENT_CHECK } },
      }) as unknown as Driver<SqlConnection>;
    },
    backendId: (conn) => (conn as { pid: number }).pid,
  };
}
