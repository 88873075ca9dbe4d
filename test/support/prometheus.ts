/**
 * A real Prometheus for the tests, from Debian's package without installing a
 * service: `apt-get download prometheus` + `dpkg -x` into a cache folder outside
 * the repository (`$CISTERN_CACHE`, else `$XDG_CACHE_HOME/cistern`, else
 * `~/.cache/cistern`), done by the test itself when the binary is missing.
 * `PROMETHEUS_BIN` points at another binary. Started on a free loopback port
 * with its own config and storage in a temp dir; stopped by its pid and the dir
 * removed, also when the test fails.
 *
 * Run by hand to fetch it ahead: `npx tsx test/support/prometheus.ts`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  if (process.env.CISTERN_CACHE) return process.env.CISTERN_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cistern');
}

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: 'pipe', timeout: 300_000 });
}

/**
 * The path of a Prometheus binary, fetching Debian's package into the cache when
 * needed. Throws with what was tried when none can be had.
 */
export function prometheusBinary(): string {
  const given = process.env.PROMETHEUS_BIN;
  if (given) {
    if (existsSync(given)) return given;
    throw new Error(`PROMETHEUS_BIN=${given} does not exist`);
  }
  const dir = join(cacheDir(), 'prometheus');
  const bin = join(dir, 'root', 'usr', 'bin', 'prometheus');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Two suites side by side (CI runs two Node versions at once) may both find no binary:
  // each fetches and unpacks into a folder of its own, and the finished tree is renamed into
  // place in one step, so nobody ever spawns a binary another process is still writing
  // (that was `spawn ETXTBSY`). The loser of the rename uses the winner's tree.
  const work = mkdtempSync(join(dir, 'fetch-'));
  const tried: string[] = [];
  try {
    try {
      run('apt-get', ['download', 'prometheus'], work);
    } catch (first) {
      tried.push(`apt-get download prometheus: ${(first as Error).message.split('\n')[0]}`);
      // a machine whose package lists were never fetched: refresh them once (needs root)
      run('apt-get', ['update'], work);
      run('apt-get', ['download', 'prometheus'], work);
    }
    const file = readdirSync(work).find((f) => /^prometheus_.*\.deb$/.test(f));
    if (file === undefined) throw new Error('apt-get download prometheus left no .deb');
    run('dpkg', ['-x', file, join(work, 'root')], work);
    try {
      renameSync(join(work, 'root'), join(dir, 'root'));
    } catch (error) {
      // another process put its tree in place first: use that one
      if (!existsSync(bin)) throw error;
    }
  } catch (error) {
    tried.push((error as Error).message.split('\n')[0]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (existsSync(bin)) return bin;
  throw new Error(
    `no Prometheus binary: set PROMETHEUS_BIN, or let the test fetch Debian's package into ${dir} (${tried.join('; ')})`,
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  pid: number;
  /** Its config and storage directory (removed by `stop`). */
  dir: string;
  /** An instant query through the HTTP API (`/api/v1/query`). */
  query(promql: string): Promise<PromSample[]>;
  /** Stop it by its pid (SIGTERM, then SIGKILL) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, output: () => string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output()}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus not ready at ${url} after ${ms} ms: ${output()}`);
}

/** Start Prometheus scraping `targets` (host:port) every second. */
export async function startPrometheus(targets: string[]): Promise<RunningPrometheus> {
  const bin = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'cistern-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 900ms',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: cistern',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let log = '';
  const child = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // never leave it running, even when the test process dies first
  const onExit = () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', onExit);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      try {
        if (child.exitCode === null) {
          process.kill(pid, 'SIGTERM');
          const killer = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {}
          }, 5000);
          await exited;
          clearTimeout(killer);
        }
      } catch {
        // already gone
      } finally {
        process.off('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    return stopped;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, () => log, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    pid,
    dir,
    async query(promql: string): Promise<PromSample[]> {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
      if (body.status !== 'success') throw new Error(`prometheus query ${promql}: ${body.error}`);
      return body.data!.result;
    },
    stop,
  };
}

// `npx tsx test/support/prometheus.ts`: fetch the binary ahead and print where it is
if (process.argv[1]?.endsWith('prometheus.ts')) console.log(prometheusBinary());
