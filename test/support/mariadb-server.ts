/**
 * A temporary TLS MariaDB for topology tests: `mariadb-install-db` into a temp dir, then
 * `mariadbd` on a free loopback port (127.0.0.1 and 127.0.0.2) with its own socket,
 * `--ssl-cert/--ssl-key/--ssl-ca` from certs.ts and `require_secure_transport=ON`
 * (plain-text TCP refused). Started by the test, stopped by pid, files removed — also
 * on failure, exit or signal (topology-cleanup.ts). Runs as the `mysql` OS user when the
 * tests run as root. ~5-8 s to install and start on a loaded machine: one per test file.
 *
 * ```ts
 * import { mariadbServerAvailable, startMariadbTls, MARIADB_TLS_USERS } from '../support/mariadb-server.js';
 *
 * if (!(await mariadbServerAvailable())) return;   // off CI: skips loudly; under CI: throws
 * const server = await startMariadbTls();           // { requireSecureTransport: false } allows plain text too
 * server.url()                      // mariadb://cistern_tls:<password>@127.0.0.1:<port>/test  (no TLS params)
 * server.url({ params: { ssl: 'true' } })           // add query parameters as the driver reads them
 * server.url({ user: 'root' })      // root@127.0.0.%, no password
 * server.url({ user: 'cert' })      // cistern_cert: REQUIRE X509 (needs the client certificate)
 * server.url({ host: '127.0.0.2' }) // same server, a host the certificate does not name
 * server.certs                      // ca, otherCa, clientCert, clientKey, pem.*  (see certs.ts)
 * await server.query('select 1')    // admin SQL over the unix socket as root (mariadb CLI), -> stdout
 * server.pid()
 * await server.destroy()            // SIGTERM (then SIGKILL) by pid, files removed; idempotent
 * ```
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Certs, makeCerts } from './certs.js';
import { freePort } from './pg-cluster.js';
import { IN_CI } from './servers.js';
import { makeTopoDir, onCleanup, writeReapScript } from './topology-cleanup.js';

const execFileP = promisify(execFile);

export const MARIADBD_BIN = process.env.MARIADBD_BIN ?? '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB_BIN = process.env.MARIADB_INSTALL_DB_BIN ?? '/usr/bin/mariadb-install-db';
export const MARIADB_CLI_BIN = process.env.MARIADB_CLI_BIN ?? '/usr/bin/mariadb';
const AS_ROOT = process.getuid?.() === 0;

export const MARIADB_TLS_USERS = {
  tls: { user: 'cistern_tls', password: 'cistern-tls-secret' },
  root: { user: 'root', password: '' },
  cert: { user: 'cistern_cert', password: '' },
} as const;

export type MariadbTlsUser = keyof typeof MARIADB_TLS_USERS;

export interface MariadbUrlOptions {
  user?: MariadbTlsUser;
  host?: string;
  database?: string;
  params?: Record<string, string>;
}

export interface MariadbServer {
  readonly port: number;
  readonly socket: string;
  readonly certs: Certs;
  url(options?: MariadbUrlOptions): string;
  pid(): number | undefined;
  query(sql: string): Promise<string>;
  log(): string;
  destroy(): Promise<void>;
}

let availability: boolean | undefined;

export async function mariadbServerAvailable(): Promise<boolean> {
  if (availability !== undefined) return availability;
  const missing = [MARIADBD_BIN, MARIADB_INSTALL_DB_BIN, MARIADB_CLI_BIN].filter((b) => !fs.existsSync(b));
  if (missing.length === 0 && spawnSync('openssl', ['version']).status === 0) return (availability = true);
  const line = `MariaDB binaries missing (${missing.join(', ') || 'openssl'}): set MARIADBD_BIN / MARIADB_INSTALL_DB_BIN / MARIADB_CLI_BIN`;
  if (IN_CI) throw new Error(`CI: ${line}`);
  console.warn(`\n!!!!! SKIPPING MariaDB TLS topology tests: ${line}\n`);
  return (availability = false);
}

function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: socket });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface MariadbTlsOptions {
  /** `require_secure_transport`: plain-text TCP refused. Default true. */
  requireSecureTransport?: boolean;
}

export async function startMariadbTls(options: MariadbTlsOptions = {}): Promise<MariadbServer> {
  const dir = makeTopoDir('mariadb');
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const errLog = path.join(dir, 'error.log');
  let child: ChildProcess | undefined;
  let destroyed = false;

  const pid = () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined);
  const log = () => {
    try {
      return fs.readFileSync(errLog, 'utf8');
    } catch {
      return '';
    }
  };
  const offCleanup = onCleanup(() => {
    const p = pid();
    if (p) process.kill(p, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    if (child && pid() !== undefined) {
      const exited = new Promise<void>((r) => child?.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    offCleanup();
  };

  try {
    // a temporary folder of its own: the bootstrap's temporary tables went to /tmp, shared
    // with the other suite CI runs beside this one, and one install failed there on a
    // temporary table it could not find again ("Could not remove temporary table ... error: 2")
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    if (AS_ROOT) spawnSync('chown', ['-R', 'mysql:', dir]);
    const certs = makeCerts(path.join(dir, 'certs'), { owner: AS_ROOT ? 'mysql' : undefined });
    const common = [
      '--no-defaults',
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      ...(AS_ROOT ? ['--user=mysql'] : []),
      '--innodb-buffer-pool-size=16M',
      '--innodb-log-file-size=8M',
      '--skip-log-bin',
    ];
    await execFileP(
      MARIADB_INSTALL_DB_BIN,
      [...common, '--auth-root-authentication-method=socket', '--skip-test-db', '--skip-name-resolve'],
      { timeout: 120_000 },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`mariadb-install-db failed: ${error.stderr || error.message}`);
    });
    const port = await freePort();
    child = spawn(
      MARIADBD_BIN,
      [
        ...common,
        `--port=${port}`,
        `--socket=${socket}`,
        '--bind-address=127.0.0.1,127.0.0.2',
        '--skip-name-resolve',
        `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
        `--log-error=${errLog}`,
        `--ssl-cert=${certs.serverCert}`,
        `--ssl-key=${certs.serverKey}`,
        `--ssl-ca=${certs.ca}`,
        `--require-secure-transport=${options.requireSecureTransport === false ? 'OFF' : 'ON'}`,
        '--max-connections=60',
        '--innodb-flush-log-at-trx-commit=0',
      ],
      { stdio: 'ignore' },
    );
    if (child.pid) writeReapScript(dir, `kill -KILL ${child.pid} 2>/dev/null || true`);
    const deadline = Date.now() + 60_000;
    while (!(await canConnect(socket))) {
      if (pid() === undefined || Date.now() > deadline) {
        throw new Error(`mariadbd did not start on 127.0.0.1:${port}:\n${log().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const query = async (sql: string): Promise<string> => {
      try {
        const { stdout } = await execFileP(
          MARIADB_CLI_BIN,
          ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-N', '-B', '-e', sql],
          { timeout: 30_000 },
        );
        return stdout.trim();
      } catch (error) {
        const e = error as { stderr?: string; message: string };
        throw new Error(`mariadb CLI failed for ${JSON.stringify(sql)}: ${e.stderr || e.message}`);
      }
    };
    const { tls, cert } = MARIADB_TLS_USERS;
    await query(
      [
        'CREATE DATABASE IF NOT EXISTS test',
        `CREATE USER '${tls.user}'@'127.0.0.%' IDENTIFIED BY '${tls.password}'`,
        `GRANT ALL ON test.* TO '${tls.user}'@'127.0.0.%'`,
        `CREATE USER 'root'@'127.0.0.%'`,
        `GRANT ALL ON *.* TO 'root'@'127.0.0.%' WITH GRANT OPTION`,
        `CREATE USER '${cert.user}'@'127.0.0.%' REQUIRE SUBJECT '/CN=${cert.user}'`,
        `GRANT ALL ON test.* TO '${cert.user}'@'127.0.0.%'`,
        '',
      ].join(';\n'),
    );
    const url = (o: MariadbUrlOptions = {}): string => {
      const u = MARIADB_TLS_USERS[o.user ?? 'tls'];
      const auth = u.password ? `${u.user}:${encodeURIComponent(u.password)}` : u.user;
      const q = new URLSearchParams(o.params ?? {}).toString();
      return `mariadb://${auth}@${o.host ?? '127.0.0.1'}:${port}/${o.database ?? 'test'}${q ? `?${q}` : ''}`;
    };
    return { port, socket, certs, url, pid, query, log, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
