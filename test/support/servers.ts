/**
 * Where the real servers are, and what to do when one is missing:
 * under CI the integration tests fail; off CI they skip with one loud line.
 */
import net from 'node:net';

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MARIADB_URL = process.env.MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/test';
export const MONGODB_URL = process.env.MONGODB_URL || undefined;

export const IN_CI = Boolean(process.env.CI);

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port) };
}

export function reachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const { host, port } = hostPort(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves true when the server answers. Off CI, a missing server prints one loud
 * line and resolves false (the caller skips); under CI it throws.
 */
export async function serverAvailable(
  kind: 'PostgreSQL' | 'MariaDB',
  url: string,
  variable: string,
): Promise<boolean> {
  if (await reachable(url)) return true;
  const line = `${kind} is not reachable at ${new URL(url).host}: set ${variable} to a reachable server (see shared/SERVICES.md)`;
  if (IN_CI) throw new Error(`CI: ${line}`);
  console.warn(`\n!!!!! SKIPPING ${kind} integration tests: ${line}\n`);
  return false;
}
