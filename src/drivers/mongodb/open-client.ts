/**
 * Open one MongoClient eagerly: `connect()` (server selection over the monitoring
 * socket) and a `{ ping: 1 }` (which opens the one pooled socket), within the
 * pool's connect timeout, rejecting at once when the pool's signal aborts.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { ConnectContext } from '../../pool/driver.js';
import { closeClient } from './close-client.js';
import { connectError } from './mongodb-errors.js';

export interface OpenSettings {
  url: string;
  /** Options for the client, already including the fixed pool sizes. */
  clientOptions: MongoClientOptions;
  password: string | undefined;
  closeTimeoutMs: number;
  /** The timeout options (serverSelectionTimeoutMS, connectTimeoutMS) to set to the pool's connect timeout. */
  timeoutOptions: ReadonlyArray<'serverSelectionTimeoutMS' | 'connectTimeoutMS'>;
  /** Fail at the first failed heartbeat instead of waiting for server selection (a single, direct host). */
  failFast: boolean;
  /** Called with the client before it connects, to attach listeners. */
  prepare(client: MongoClient): void;
}

export async function openClient(ctx: ConnectContext, settings: OpenSettings): Promise<MongoClient> {
  const { url, password } = settings;
  if (ctx.signal.aborted) throw connectError(url, ctx.signal.reason ?? new Error('aborted'), password);
  let client: MongoClient;
  try {
    const timeouts = Number.isFinite(ctx.timeoutMs)
      ? Object.fromEntries(settings.timeoutOptions.map((name) => [name, ctx.timeoutMs]))
      : {};
    client = new MongoClient(url, { ...timeouts, ...settings.clientOptions });
  } catch (error) {
    throw connectError(url, error, password);
  }
  settings.prepare(client);
  let onAbort: (() => void) | undefined;
  let onHeartbeatFailed: ((event: { failure?: unknown }) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(ctx.signal.reason ?? new Error('the connect was aborted'));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (settings.failFast) {
      // one host and it refused (or reset) the monitor's handshake: say so now, not at the timeout
      onHeartbeatFailed = (event) => reject(event.failure ?? new Error('the server heartbeat failed'));
      client.on('serverHeartbeatFailed', onHeartbeatFailed);
    }
    if (Number.isFinite(ctx.timeoutMs)) {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ctx.timeoutMs} ms (connectTimeoutMs)`)),
        ctx.timeoutMs,
      );
    }
  });
  const attempt = (async () => {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  })();
  try {
    await Promise.race([attempt, stop]);
    return client;
  } catch (error) {
    attempt.catch(() => {});
    void closeClient(client, settings.closeTimeoutMs);
    throw connectError(url, error, password);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    if (onHeartbeatFailed) client.off('serverHeartbeatFailed', onHeartbeatFailed);
  }
}
