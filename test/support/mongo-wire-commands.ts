/**
 * The commands the MongoDB wire-protocol test server answers, as a standalone
 * MongoDB 7.0 (wire version 21) would: the handshake and monitoring (`hello`,
 * legacy `isMaster`), `ping`, `buildInfo`, `endSessions`, CRUD (`insert`, `find`,
 * `update`, `delete`, `count`, a small `aggregate`), `getMore`/`killCursors`,
 * `drop`/`dropDatabase`. Authentication always fails (code 18); anything carrying a
 * `txnNumber` gets the standalone's refusal (code 20); an unknown command gets 59.
 */
import { type Document, Long } from 'bson';
import { applyUpdate, cloneDocument, type MemoryStore, matches } from './mongo-wire-store.js';

export const MAX_WIRE_VERSION = 21;

export interface CommandContext {
  store: MemoryStore;
  /** The server-side id of the socket this command arrived on (`hello.connectionId`). */
  connectionId: number;
  db: string;
}

export function commandName(command: Document): string {
  return Object.keys(command)[0] ?? '';
}

export function errorReply(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

function hello(command: Document, ctx: CommandContext): Document {
  const reply: Document = {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
  if (command.saslSupportedMechs) reply.saslSupportedMechs = ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
  return reply;
}

function cursorReply(ctx: CommandContext, collection: string, docs: Document[]): Document {
  return { cursor: { firstBatch: docs, id: Long.fromNumber(0), ns: `${ctx.db}.${collection}` }, ok: 1 };
}

function find(command: Document, ctx: CommandContext): Document {
  const name = String(command.find);
  let docs = ctx.store.collection(ctx.db, name).filter((d) => matches(d, command.filter));
  const skip = Number(command.skip ?? 0);
  const limit = Math.abs(Number(command.limit ?? 0));
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return cursorReply(
    ctx,
    name,
    docs.map((d) => cloneDocument(d)),
  );
}

function insert(command: Document, ctx: CommandContext): Document {
  const name = String(command.insert);
  const writeErrors: Document[] = [];
  let n = 0;
  for (const [index, doc] of (command.documents as Document[]).entries()) {
    if (ctx.store.insert(ctx.db, name, doc)) n++;
    else {
      writeErrors.push({
        index,
        code: 11000,
        errmsg: `E11000 duplicate key error collection: ${ctx.db}.${name}`,
      });
      if (command.ordered !== false) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

function update(command: Document, ctx: CommandContext): Document {
  const name = String(command.update);
  const docs = ctx.store.collection(ctx.db, name);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  for (const [index, statement] of (command.updates as Document[]).entries()) {
    const targets = docs.filter((d) => matches(d, statement.q));
    const chosen = statement.multi ? targets : targets.slice(0, 1);
    for (const doc of chosen) {
      const next = applyUpdate(doc, statement.u);
      docs[docs.indexOf(doc)] = next;
      n++;
      nModified++;
    }
    if (chosen.length === 0 && statement.upsert) {
      const base: Document = {};
      for (const [k, v] of Object.entries(statement.q ?? {})) if (!k.startsWith('$')) base[k] = v;
      const doc = applyUpdate(base, statement.u);
      ctx.store.insert(ctx.db, name, doc);
      const stored = docs[docs.length - 1];
      upserted.push({ index, _id: stored._id });
      n++;
    }
  }
  return upserted.length > 0 ? { n, nModified, upserted, ok: 1 } : { n, nModified, ok: 1 };
}

function remove(command: Document, ctx: CommandContext): Document {
  const name = String(command.delete);
  const docs = ctx.store.collection(ctx.db, name);
  let n = 0;
  for (const statement of command.deletes as Document[]) {
    const targets = docs.filter((d) => matches(d, statement.q));
    const chosen = Number(statement.limit) === 1 ? targets.slice(0, 1) : targets;
    for (const doc of chosen) docs.splice(docs.indexOf(doc), 1);
    n += chosen.length;
  }
  return { n, ok: 1 };
}

function aggregate(command: Document, ctx: CommandContext): Document {
  const name = String(command.aggregate);
  let docs = ctx.store.collection(ctx.db, name).slice();
  for (const stage of command.pipeline as Document[]) {
    const [op, arg] = Object.entries(stage)[0];
    if (op === '$match') docs = docs.filter((d) => matches(d, arg));
    else if (op === '$skip') docs = docs.slice(Number(arg));
    else if (op === '$limit') docs = docs.slice(0, Number(arg));
    else if (op === '$count') docs = [{ [String(arg)]: docs.length }];
    else if (op === '$group') {
      // only the shape countDocuments sends: { _id: <constant>, n: { $sum: 1 } }
      const group: Document = { _id: arg._id };
      for (const [field, acc] of Object.entries(arg as Document)) {
        if (field !== '_id') group[field] = docs.length * Number((acc as Document).$sum ?? 0);
      }
      docs = docs.length > 0 ? [group] : [];
    } else return errorReply(40324, 'Location40324', `Unrecognized pipeline stage name: '${op}'`);
  }
  return cursorReply(
    ctx,
    name,
    docs.map((d) => cloneDocument(d)),
  );
}

type Handler = (command: Document, ctx: CommandContext) => Document;

const handlers: Record<string, Handler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo: () => ({
    version: '7.0.0',
    versionArray: [7, 0, 0, 0],
    maxBsonObjectSize: 16 * 1024 * 1024,
    ok: 1,
  }),
  buildinfo: () => ({ version: '7.0.0', versionArray: [7, 0, 0, 0], ok: 1 }),
  endSessions: () => ({ ok: 1 }),
  saslStart: () => errorReply(18, 'AuthenticationFailed', 'Authentication failed.'),
  saslContinue: () => errorReply(18, 'AuthenticationFailed', 'Authentication failed.'),
  find,
  insert,
  update,
  delete: remove,
  aggregate,
  count: (command, ctx) => ({
    n: ctx.store.collection(ctx.db, String(command.count)).filter((d) => matches(d, command.query)).length,
    ok: 1,
  }),
  getMore: () => errorReply(43, 'CursorNotFound', 'cursor id not found'),
  killCursors: (command) => ({ cursorsKilled: command.cursors ?? [], cursorsNotFound: [], ok: 1 }),
  drop: (command, ctx) =>
    ctx.store.drop(ctx.db, String(command.drop))
      ? { ok: 1 }
      : errorReply(26, 'NamespaceNotFound', 'ns not found'),
  dropDatabase: (_command, ctx) => {
    ctx.store.dropDatabase(ctx.db);
    return { ok: 1 };
  },
};

/** Answer one command as a standalone server would. */
export function runCommand(command: Document, ctx: CommandContext): Document {
  const name = commandName(command);
  if (command.txnNumber !== undefined) {
    return errorReply(
      20,
      'IllegalOperation',
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
  }
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  if (!handler) return errorReply(59, 'CommandNotFound', `no such command: '${name}'`);
  try {
    return handler(command, ctx);
  } catch (error) {
    const code =
      typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 8000;
    return errorReply(code, 'BadValue', (error as Error).message);
  }
}
