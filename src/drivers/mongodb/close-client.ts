import type { MongoClient } from 'mongodb';

/** The one internal of the MongoClient used: cutting checked-out connections (what `close()` itself does first). */
interface ClientInternals {
  topology?: { closeCheckedOutConnections?(): void };
}

function delay(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(resolve, ms, 'timeout').unref());
}

/**
 * Close a client without ever rejecting or hanging: `MongoClient.close()` first
 * sends `endSessions` over the connection, which never returns from a stalled
 * server; after `timeoutMs` the connection carrying it is cut, and close finishes.
 */
export async function closeClient(client: MongoClient, timeoutMs: number): Promise<void> {
  const closing = client.close().then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  if ((await Promise.race([closing, delay(timeoutMs)])) === 'closed') return;
  (client as unknown as ClientInternals).topology?.closeCheckedOutConnections?.();
  await Promise.race([closing, delay(timeoutMs)]);
}
