/**
 * Start Debian's pgbouncer on a loopback port, from a temporary config, in front of
 * the test PostgreSQL server — to test behind a real pooler in transaction mode.
 *
 * ```ts
 * const bouncer = await startPgBouncer({ poolMode: 'transaction', serverPoolSize: 2 });
 * if (!bouncer) return ctx.skip();             // pgbouncer not installed (off CI)
 * const url = bouncer.url;                     // postgres://postgres@127.0.0.1:<port>/test
 * await bouncer.stop();                        // kills it and removes the temp dir
 * ```
 *
 * Install: `apt-get install -y pgbouncer`. PgBouncer refuses to run as root, so as
 * root it is started with `-u postgres`. Auth is `trust` (the test server's own
 * setting), with the URL's user listed in a temporary auth file.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PG_URL } from './servers.js';

export interface PgBouncerOptions {
  /** The server behind it; default PG_URL. */
  serverUrl?: string;
  poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per (database, user): `default_pool_size`. Default 2. */
  serverPoolSize?: number;
}

export interface PgBouncer {
  port: number;
  /** The server URL with host and port replaced by PgBouncer's. */
  url: string;
  /** PgBouncer's own log (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export function pgbouncerInstalled(): boolean {
  return spawnSync(PGBOUNCER_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resolves undefined when pgbouncer is not installed. */
export async function startPgBouncer(options: PgBouncerOptions = {}): Promise<PgBouncer | undefined> {
  if (!pgbouncerInstalled()) return undefined;
  const server = new URL(options.serverUrl ?? PG_URL);
  const database = server.pathname.slice(1) || 'postgres';
  const user = decodeURIComponent(server.username) || 'postgres';
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cistern-pgbouncer-'));
  fs.chmodSync(dir, 0o777);
  const logfile = path.join(dir, 'pgbouncer.log');
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  fs.writeFileSync(userlist, `"${user}" ""\n`, { mode: 0o644 });
  fs.writeFileSync(
    ini,
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port || 5432} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.serverPoolSize ?? 2}`,
      'max_client_conn = 200',
      `logfile = ${logfile}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'ignore_startup_parameters = extra_float_digits',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(PGBOUNCER_BIN, asRoot ? ['-u', 'postgres', ini] : [ini], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const readLog = (): string => {
    try {
      return fs.readFileSync(logfile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = `${stderr}\n${readLog()}`;
      await stop();
      throw new Error(`pgbouncer did not start on 127.0.0.1:${port}: ${why.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = new URL(server.toString());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { port, url: url.toString(), log: readLog, stop };
}
