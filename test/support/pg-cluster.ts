/**
 * Temporary PostgreSQL servers for topology tests: a TLS-only primary, streaming
 * standbys of it (`pg_basebackup -R`), promotion, stop/kill/restart — made with the
 * machine's own binaries (/usr/lib/postgresql/15/bin, or PG_BIN) on free loopback
 * ports in a temp dir, run as the `postgres` OS user when the tests run as root
 * (initdb refuses root). Started by the tests, stopped by pid, files removed — also
 * on failure, exit or signal (see topology-cleanup.ts).
 *
 * Speed: initdb runs ONCE per test run (the template dir is shared by every test file
 * when vitest's globalSetup `test/support/topology-global-setup.ts` is configured, else
 * once per process); each node is a copy of it (~1 s to start), a standby a base backup.
 *
 * ```ts
 * import { pgClusterAvailable, startPgPrimary, startPgStandby, PG_ROLES } from '../support/pg-cluster.js';
 *
 * if (!(await pgClusterAvailable())) return;   // off CI: skips loudly; under CI: throws
 * const primary = await startPgPrimary();       // TLS-only (hostssl lines only), `tls: false` for plain
 * const standby = await startPgStandby(primary); // hot standby streaming from it (same certs)
 *
 * primary.url()                                  // postgres://postgres@127.0.0.1:<port>/test?sslmode=require
 * primary.url({ sslmode: 'verify-full', rootcert: 'ca' })      // + sslrootcert=<CA path>
 * primary.url({ user: 'scram' })                 // role cistern_scram, password PG_ROLES.scram.password
 * primary.url({ user: 'cert', sslmode: 'verify-full', rootcert: 'ca', clientCert: true })
 *                                                // role cistern_cert, authenticated by its client certificate
 * primary.url({ host: '127.0.0.2', ... })        // same server, a host the certificate does NOT name
 * primary.url({ sslmode: 'disable' })            // plain text: refused by a TLS-only node ("no pg_hba.conf entry")
 * multiHostUrl([primary, standby], { params: { target_session_attrs: 'read-write' } })
 * primary.certs                                  // see certs.ts: ca, otherCa, clientCert, clientKey, pem.*
 *
 * await primary.query('select 1')              // admin query over the node's unix socket (psql), -> stdout text
 * await standby.waitForReplay(primary)          // standby has replayed everything the primary wrote so far
 * await primary.stop({ mode: 'immediate' })    // the primary "dies" (SIGQUIT to all backends); 'fast' = clean
 * await standby.promote()                      // pg_ctl promote -w: read-write now
 * await standby.stop(); await standby.start()  // a replica killed and brought back (same port)
 * primary.pid()                                // postmaster pid while running
 * await primary.destroy()                      // stop (immediate) + remove its files; idempotent
 * ```
 *
 * Roles (in database `test`, which every node has): `postgres` (superuser, trust over
 * TLS), `cistern_scram` (scram-sha-256 password, over TLS), `cistern_cert` (client
 * certificate auth, `cert` in pg_hba). Every node also trusts `local` (unix socket)
 * connections, for admin queries. Replication connections: `postgres`, over TLS.
 * Node settings favour speed (fsync off), max_connections 60.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Certs, makeCerts } from './certs.js';
import { IN_CI } from './servers.js';
import { makeTopoDir, onCleanup, writeReapScript } from './topology-cleanup.js';

const execFileP = promisify(execFile);

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const AS_ROOT = process.getuid?.() === 0;
const PG_OS_USER = 'postgres';

export const PG_ROLES = {
  postgres: { user: 'postgres', password: '' },
  scram: { user: 'cistern_scram', password: 'cistern-scram-secret' },
  cert: { user: 'cistern_cert', password: '' },
} as const;

export type PgRole = keyof typeof PG_ROLES;
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PgUrlOptions {
  user?: PgRole;
  /** Default '127.0.0.1'. '127.0.0.2' reaches the same server under a name the certificate lacks. */
  host?: string;
  database?: string;
  /** Default 'require' on a TLS node, none on a plain node. */
  sslmode?: SslMode;
  /** Adds `sslrootcert=<path>`: the CA that signed the server certificate, or an unrelated one. */
  rootcert?: 'ca' | 'other';
  /** Adds `sslcert=<path>&sslkey=<path>` (the client certificate of `cistern_cert`). */
  clientCert?: boolean;
  /** More query parameters. */
  params?: Record<string, string>;
}

export interface PgNodeOptions {
  /** TLS-only (`hostssl` lines only, the default), or plain text (`host` lines, no TLS). */
  tls?: boolean;
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number>;
  /** A label for the dir and logs; default 'primary' / 'standby-N'. */
  name?: string;
}

export interface PgNode {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly tls: boolean;
  readonly certs: Certs;
  url(options?: PgUrlOptions): string;
  pid(): number | undefined;
  running(): boolean;
  /** Admin query over the unix socket (psql, superuser, database test); resolves psql's stdout, trimmed. */
  query(sql: string): Promise<string>;
  isInRecovery(): Promise<boolean>;
  waitForReplay(primary: PgNode, timeoutMs?: number): Promise<void>;
  start(): Promise<void>;
  stop(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  promote(): Promise<void>;
  /** The node's server log so far (for failure messages). */
  log(): string;
  destroy(): Promise<void>;
}

// ---------- availability ----------

let availability: boolean | undefined;

/** True when the binaries exist. Off CI a missing binary prints one loud line; under CI it throws. */
export async function pgClusterAvailable(): Promise<boolean> {
  if (availability !== undefined) return availability;
  const missing = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres', 'psql'].filter(
    (b) => !fs.existsSync(path.join(PG_BIN, b)),
  );
  if (missing.length === 0 && spawnSync('openssl', ['version']).status === 0) return (availability = true);
  const line = `PostgreSQL binaries (${missing.join(', ') || 'openssl'}) missing in ${PG_BIN}: set PG_BIN to PostgreSQL 15's bin dir`;
  if (IN_CI) throw new Error(`CI: ${line}`);
  console.warn(`\n!!!!! SKIPPING PostgreSQL topology tests: ${line}\n`);
  return (availability = false);
}

// ---------- running binaries as the postgres OS user ----------

function bin(name: string): string {
  return path.join(PG_BIN, name);
}

function asPg(cmd: string, args: string[]): [string, string[]] {
  return AS_ROOT ? ['runuser', ['-u', PG_OS_USER, '--', cmd, ...args]] : [cmd, args];
}

async function runPg(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = asPg(cmd, args);
  try {
    const { stdout } = await execFileP(file, argv, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

function runPgSync(cmd: string, args: string[], input?: string): void {
  const [file, argv] = asPg(cmd, args);
  execFileSync(file, argv, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
}

function chownPg(target: string): void {
  if (AS_ROOT) execFileSync('chown', ['-R', `${PG_OS_USER}:`, target]);
}

// ---------- the template (initdb once) ----------

const TEMPLATE_SETUP_SQL = `
CREATE DATABASE test
CREATE ROLE ${PG_ROLES.scram.user} LOGIN PASSWORD '${PG_ROLES.scram.password}'
CREATE ROLE ${PG_ROLES.cert.user} LOGIN
`;
const TEMPLATE_TEST_DB_SQL = `
GRANT ALL ON SCHEMA public TO PUBLIC
`;

function buildTemplate(target: string): void {
  const work = `${target}.tmp-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  chownPg(work);
  const data = path.join(work, 'data');
  runPgSync(bin('initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  runPgSync(bin('postgres'), ['--single', '-D', data, 'postgres'], TEMPLATE_SETUP_SQL);
  runPgSync(bin('postgres'), ['--single', '-D', data, 'test'], TEMPLATE_TEST_DB_SQL);
  fs.renameSync(work, target);
}

let localTemplate: string | undefined;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The template data dir: shared across the run (env CISTERN_PG_TEMPLATE) or this process's own. */
function templateDataDir(): string {
  const shared = process.env.CISTERN_PG_TEMPLATE;
  if (shared) {
    const data = path.join(shared, 'data');
    if (fs.existsSync(data)) return data;
    let mine = false;
    fs.mkdirSync(path.dirname(shared), { recursive: true, mode: 0o755 });
    try {
      fs.mkdirSync(`${shared}.lock`);
      mine = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // another process builds it
    }
    if (mine) {
      try {
        buildTemplate(shared);
      } catch (error) {
        fs.rmSync(`${shared}.lock`, { recursive: true, force: true });
        throw error;
      }
      return data;
    }
    const deadline = Date.now() + 90_000;
    while (!fs.existsSync(data)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for the PostgreSQL template in ${shared}`);
      sleepSync(100);
    }
    return data;
  }
  if (!localTemplate) {
    const dir = makeTopoDir('pgtemplate');
    chownPg(dir);
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    buildTemplate(path.join(dir, 't'));
    localTemplate = path.join(dir, 't');
  }
  return path.join(localTemplate, 'data');
}

// ---------- ports ----------

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

// ---------- a node ----------

let shared: { dir: string; certs: Certs } | undefined;

function harnessDir(): { dir: string; certs: Certs } {
  if (!shared) {
    const dir = makeTopoDir('pg');
    chownPg(dir);
    const certs = makeCerts(path.join(dir, 'certs'), { owner: AS_ROOT ? PG_OS_USER : undefined });
    shared = { dir, certs };
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return shared;
}

function hbaLines(tls: boolean): string {
  const kind = tls ? 'hostssl' : 'host';
  return [
    'local all all trust',
    'local replication all trust',
    `${kind} replication postgres 127.0.0.1/32 trust`,
    // client-certificate auth exists only over TLS; a plain node has no way in for cistern_cert
    ...(tls ? [`hostssl all ${PG_ROLES.cert.user} 127.0.0.0/8 cert`] : []),
    `${kind} all ${PG_ROLES.scram.user} 127.0.0.0/8 scram-sha-256`,
    `${kind} all all 127.0.0.0/8 trust`,
    '',
  ].join('\n');
}

function confLines(
  port: number,
  socketDir: string,
  tls: boolean,
  certs: Certs,
  extra: Record<string, string | number>,
): string {
  const settings: Record<string, string | number> = {
    port,
    listen_addresses: "'127.0.0.1,127.0.0.2'",
    unix_socket_directories: `'${socketDir}'`,
    max_connections: 60,
    shared_buffers: "'16MB'",
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    wal_level: 'replica',
    max_wal_senders: 10,
    hot_standby: 'on',
    wal_receiver_status_interval: "'1s'",
    wal_retrieve_retry_interval: "'500ms'",
    log_min_messages: 'warning',
    ...(tls
      ? {
          ssl: 'on',
          ssl_cert_file: `'${certs.serverCert}'`,
          ssl_key_file: `'${certs.serverKey}'`,
          ssl_ca_file: `'${certs.ca}'`,
        }
      : { ssl: 'off' }),
    ...extra,
  };
  return `\n# cistern topology harness\n${Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`;
}

interface NodeInit {
  name: string;
  dir: string;
  port: number;
  tls: boolean;
  certs: Certs;
}

function makeNode(init: NodeInit): PgNode {
  const { name, dir, port, tls, certs } = init;
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  let destroyed = false;

  const pid = (): number | undefined => {
    try {
      const first = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      const n = Number(first);
      if (!Number.isInteger(n) || n <= 0) return undefined;
      process.kill(n, 0);
      return n;
    } catch {
      return undefined;
    }
  };

  const stopSync = () => {
    if (pid() !== undefined) {
      try {
        runPgSync(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']);
      } catch {
        const p = pid();
        if (p) process.kill(p, 'SIGKILL');
      }
    }
  };
  const offCleanup = onCleanup(() => {
    stopSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  writeReapScript(
    dir,
    AS_ROOT
      ? `runuser -u ${PG_OS_USER} -- ${bin('pg_ctl')} stop -D '${dataDir}' -m immediate -w -t 10`
      : `${bin('pg_ctl')} stop -D '${dataDir}' -m immediate -w -t 10`,
  );

  const url = (o: PgUrlOptions = {}): string => {
    const role = PG_ROLES[o.user ?? 'postgres'];
    const auth = role.password ? `${role.user}:${encodeURIComponent(role.password)}` : role.user;
    const params = new URLSearchParams();
    const sslmode = o.sslmode ?? (tls ? 'require' : undefined);
    if (sslmode) params.set('sslmode', sslmode);
    if (o.rootcert) params.set('sslrootcert', o.rootcert === 'ca' ? certs.ca : certs.otherCa);
    if (o.clientCert) {
      params.set('sslcert', certs.clientCert);
      params.set('sslkey', certs.clientKey);
    }
    for (const [k, v] of Object.entries(o.params ?? {})) params.set(k, v);
    const q = params.toString();
    return `postgres://${auth}@${o.host ?? '127.0.0.1'}:${port}/${o.database ?? 'test'}${q ? `?${q}` : ''}`;
  };

  const query = async (sql: string): Promise<string> => {
    try {
      const { stdout } = await execFileP(
        bin('psql'),
        [
          '-X',
          '-q',
          '-A',
          '-t',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          dir,
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          'test',
          '-c',
          sql,
        ],
        { timeout: 30_000 },
      );
      return stdout.trim();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`[${name}] psql failed for ${JSON.stringify(sql)}: ${e.stderr || e.message}`);
    }
  };

  const log = (): string => {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const node: PgNode = {
    name,
    port,
    dataDir,
    tls,
    certs,
    url,
    pid,
    running: () => pid() !== undefined,
    query,
    async isInRecovery() {
      return (await query('select pg_is_in_recovery()')) === 't';
    },
    async waitForReplay(primary: PgNode, timeoutMs = 15_000) {
      const target = await primary.query('select pg_current_wal_insert_lsn()');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ok = await query(`select pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`);
        if (ok === 't') return;
        if (Date.now() > deadline)
          throw new Error(`[${name}] did not replay up to ${target} in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async start() {
      if (destroyed) throw new Error(`[${name}] destroyed`);
      if (pid() !== undefined) return;
      try {
        await runPg(bin('pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-s']);
      } catch (error) {
        throw new Error(`[${name}] did not start: ${(error as Error).message}\n${log().slice(-2000)}`);
      }
    },
    async stop(o: { mode?: 'fast' | 'immediate' } = {}) {
      if (pid() === undefined) return;
      await runPg(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', o.mode ?? 'fast', '-w', '-t', '30', '-s']);
    },
    async promote() {
      await runPg(bin('pg_ctl'), ['promote', '-D', dataDir, '-w', '-t', '30', '-s']);
    },
    log,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (pid() !== undefined) {
        await runPg(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30', '-s']).catch(
          () => {
            const p = pid();
            if (p) process.kill(p, 'SIGKILL');
          },
        );
      }
      fs.rmSync(dir, { recursive: true, force: true });
      offCleanup();
    },
  };
  return node;
}

let counter = 0;

/** A primary: a copy of the template, its own port, TLS-only unless `tls: false`. Started. */
export async function startPgPrimary(options: PgNodeOptions = {}): Promise<PgNode> {
  const tls = options.tls ?? true;
  const { dir: root, certs } = harnessDir();
  const name = options.name ?? `primary-${++counter}`;
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const template = templateDataDir();
  execFileSync('cp', ['-a', template, path.join(dir, 'data')]);
  chownPg(dir);
  const port = await freePort();
  const data = path.join(dir, 'data');
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    confLines(port, dir, tls, certs, options.settings ?? {}),
  );
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), hbaLines(tls));
  chownPg(data);
  const node = makeNode({ name, dir, port, tls, certs });
  try {
    await node.start();
  } catch (error) {
    await node.destroy();
    throw error;
  }
  return node;
}

/** A hot standby streaming from `primary` (pg_basebackup -R over TLS if the primary is TLS-only). Started. */
export async function startPgStandby(primary: PgNode, options: PgNodeOptions = {}): Promise<PgNode> {
  const { dir: root, certs } = harnessDir();
  const name = options.name ?? `standby-${++counter}`;
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  chownPg(dir);
  const data = path.join(dir, 'data');
  const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres sslmode=${primary.tls ? 'require' : 'disable'} application_name=${name}`;
  await runPg(bin('pg_basebackup'), [
    '-d',
    conninfo,
    '-D',
    data,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '--no-sync',
  ]);
  const port = await freePort();
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    confLines(port, dir, primary.tls, certs, options.settings ?? {}),
  );
  chownPg(data);
  const node = makeNode({ name, dir, port, tls: primary.tls, certs });
  try {
    await node.start();
  } catch (error) {
    await node.destroy();
    throw error;
  }
  return node;
}

/** One URL naming several nodes: `postgres://user@127.0.0.1:p1,127.0.0.1:p2/test?...` (libpq / postgres.js form). */
export function multiHostUrl(nodes: PgNode[], options: PgUrlOptions = {}): string {
  if (nodes.length === 0) throw new Error('multiHostUrl: no nodes');
  const first = new URL(nodes[0]!.url(options));
  const hosts = nodes.map((n) => `${options.host ?? '127.0.0.1'}:${n.port}`).join(',');
  return first.toString().replace(`${first.hostname}:${first.port}`, hosts);
}
