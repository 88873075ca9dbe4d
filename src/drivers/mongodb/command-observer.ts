/**
 * Query spans from the driver's command monitoring: one `observer.start` per
 * command at `commandStarted` (emitted synchronously in the caller's async
 * context), ended at `commandSucceeded` / `commandFailed`, matched by requestId.
 * Never any document contents: `text` stays undefined. The handshake, heartbeats,
 * pings, authentication and the `endSessions` sent at close are not the user's
 * commands and get no span.
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../../pool/driver.js';

const SKIPPED = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'ping',
  'endSessions',
  'saslStart',
  'saslContinue',
  'authenticate',
  'getnonce',
]);

/** The slice of the command monitoring events cistern reads. */
interface StartedEvent {
  requestId: number;
  commandName: string;
  databaseName: string;
  command: Record<string, unknown>;
}
interface FinishedEvent {
  requestId: number;
  failure?: unknown;
  reply?: { writeErrors?: Array<{ code?: unknown }>; writeConcernError?: { code?: unknown } };
}

/**
 * A write the server acknowledged with `ok: 1` but whose documents failed (a
 * duplicate key, a validation error): the span fails with the server's code. Only
 * the code is kept; the server's message can quote document values.
 */
export class MongoWriteFailure extends Error {
  readonly code: number | undefined;
  constructor(code: unknown) {
    super('the write failed on the server');
    this.name = 'MongoWriteFailure';
    this.code = typeof code === 'number' ? code : undefined;
  }
}

function writeFailure(reply: FinishedEvent['reply']): MongoWriteFailure | undefined {
  const failed = reply?.writeErrors?.[0] ?? reply?.writeConcernError;
  return failed === undefined ? undefined : new MongoWriteFailure(failed.code);
}

/** The slice of a MongoClient's event emitter cistern uses. */
export interface CommandEventSource {
  on(event: string, listener: (event: any) => void): unknown;
  off(event: string, listener: (event: any) => void): unknown;
}

function collectionOf(command: Record<string, unknown>, commandName: string): string | undefined {
  const first = command[commandName];
  if (typeof first === 'string') return first;
  // getMore names its collection in a field of its own
  return typeof command.collection === 'string' ? command.collection : undefined;
}

export function queryInfo(event: StartedEvent): QueryInfo {
  return {
    operation: event.commandName,
    collection: collectionOf(event.command, event.commandName),
    namespace: event.databaseName,
  };
}

/** Wire `observer` to the client's command events. Returns a function that detaches and ends open scopes. */
export function observeCommands(
  client: CommandEventSource,
  observer: QueryObserver,
  meta: ConnectionMeta,
): (reason?: unknown) => void {
  const open = new Map<number, QueryScope>();
  const end = (event: FinishedEvent, error?: unknown) => {
    const scope = open.get(event.requestId);
    if (scope === undefined) return;
    open.delete(event.requestId);
    try {
      scope.end(error);
    } catch {
      // an observer must never break a command
    }
  };
  const onStarted = (event: StartedEvent) => {
    if (SKIPPED.has(event.commandName)) return;
    try {
      open.set(event.requestId, observer.start(queryInfo(event), meta));
    } catch {
      // an observer must never break a command
    }
  };
  const onSucceeded = (event: FinishedEvent) => end(event, writeFailure(event.reply));
  const onFailed = (event: FinishedEvent) => end(event, event.failure);
  client.on('commandStarted', onStarted);
  client.on('commandSucceeded', onSucceeded);
  client.on('commandFailed', onFailed);
  return (reason?: unknown) => {
    client.off('commandStarted', onStarted);
    client.off('commandSucceeded', onSucceeded);
    client.off('commandFailed', onFailed);
    for (const requestId of [...open.keys()])
      end({ requestId }, reason ?? new Error('the connection was closed'));
  };
}
