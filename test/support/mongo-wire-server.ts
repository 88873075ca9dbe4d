/**
 * A MongoDB wire-protocol test server: the real `mongodb` driver talks to it over a
 * real socket on 127.0.0.1, as to a standalone MongoDB 7.0. No MongoDB server can be
 * installed on the development and CI machines (shared/SERVICES.md), so the driver
 * tests always run against this, and also against a real server when MONGODB_URL is set.
 *
 * Controls for fault tests: `dropAll()` destroys every socket, `stall(true)` stops
 * answering (new sockets too), `stallNext(n, command?)` swallows the next n
 * requests, `failCommand(name, ...)` answers a command with an error or closes the
 * socket on it (MongoDB's own `failCommand` fail point, in miniature).
 */
import net from 'node:net';
import type { Document } from 'bson';
import { commandName, errorReply, runCommand } from './mongo-wire-commands.js';
import { decodeRequest, encodeReply, FrameReader, type WireRequest } from './mongo-wire-protocol.js';
import { MemoryStore } from './mongo-wire-store.js';

export interface FailCommandOptions {
  /** Error code of the `ok: 0` answer. */
  code?: number;
  errmsg?: string;
  codeName?: string;
  /** Destroy the socket instead of answering (the request is never answered). */
  closeConnection?: boolean;
  /** How many times to fail; default once. */
  times?: number;
}

/** One command the server received, for assertions. */
export interface CommandRecord {
  name: string;
  db: string;
  connectionId: number;
  /** 2013 (OP_MSG) or 2004 (OP_QUERY, the legacy handshake). */
  opCode: number;
  /** True when the request was swallowed by a stall or dropped by a fail point. */
  unanswered: boolean;
}

interface FailPoint extends FailCommandOptions {
  remaining: number;
}

const HANDSHAKE = new Set(['hello', 'isMaster', 'ismaster']);

export class MongoWireServer {
  readonly store = new MemoryStore();
  /** Every command received, in order (the handshake and heartbeats included). */
  readonly commands: CommandRecord[] = [];
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Map<net.Socket, number>();
  private readonly failPoints = new Map<string, FailPoint>();
  private nextConnectionId = 1;
  private stalled = false;
  private stallBudget = 0;
  private stallFilter: string | undefined;
  private acceptedTotal = 0;
  private port = 0;

  /** Start listening on 127.0.0.1 on a free port. */
  static async start(): Promise<MongoWireServer> {
    const server = new MongoWireServer();
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(0, '127.0.0.1', () => resolve());
    });
    server.port = (server.server.address() as net.AddressInfo).port;
    return server;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get address(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  /** A connection string for database `db` (default 'test'), optionally with credentials. */
  url(db = 'test', auth?: { user: string; password: string }): string {
    const creds = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
    return `mongodb://${creds}${this.host}:${this.port}/${db}`;
  }

  /** Sockets open right now. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Sockets accepted since start. */
  get acceptedCount(): number {
    return this.acceptedTotal;
  }

  /** Server-side ids (`hello.connectionId`) of the sockets open right now. */
  openConnectionIds(): number[] {
    return [...this.sockets.values()];
  }

  /** Server-side connection ids that answered a command named `name`, from `commands[since]` on. */
  connectionIdsFor(name: string, since = 0): Set<number> {
    return new Set(
      this.commands
        .slice(since)
        .filter((c) => c.name === name && !c.unanswered)
        .map((c) => c.connectionId),
    );
  }

  /** Destroy every open socket (as a server crash or a network cut would). */
  dropAll(): void {
    for (const socket of this.sockets.keys()) socket.destroy();
  }

  /** Stop answering anything (true), or answer again from now on (false). Swallowed requests stay unanswered. */
  stall(on: boolean): void {
    this.stalled = on;
  }

  /** Swallow the next `n` requests named `command`, or any non-handshake request when no name is given. */
  stallNext(n: number, command?: string): void {
    this.stallBudget = n;
    this.stallFilter = command;
  }

  /** Make the next `times` (default 1) `name` commands fail with an error, or close their socket. */
  failCommand(name: string, options: FailCommandOptions = {}): void {
    this.failPoints.set(name, { ...options, remaining: options.times ?? 1 });
  }

  /** Forget fail points, stalls and data. */
  reset(): void {
    this.failPoints.clear();
    this.stalled = false;
    this.stallBudget = 0;
    this.store.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connectionId = this.nextConnectionId++;
    this.acceptedTotal++;
    this.sockets.set(socket, connectionId);
    socket.setNoDelay(true);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (socket.destroyed) return;
        this.handle(socket, connectionId, frame);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }

  private shouldStall(name: string): boolean {
    if (this.stalled) return true;
    if (this.stallBudget <= 0) return false;
    const hit = this.stallFilter === undefined ? !HANDSHAKE.has(name) : this.stallFilter === name;
    if (hit) this.stallBudget--;
    return hit;
  }

  private handle(socket: net.Socket, connectionId: number, frame: Buffer): void {
    let request: WireRequest;
    try {
      request = decodeRequest(frame);
    } catch {
      socket.destroy();
      return;
    }
    const name = commandName(request.command);
    const record: CommandRecord = {
      name,
      db: request.db,
      connectionId,
      opCode: request.opCode,
      unanswered: false,
    };
    this.commands.push(record);
    if (this.shouldStall(name)) {
      record.unanswered = true;
      return;
    }
    let reply: Document | undefined;
    const failPoint = this.failPoints.get(name);
    if (failPoint && failPoint.remaining > 0) {
      if (--failPoint.remaining === 0) this.failPoints.delete(name);
      if (failPoint.closeConnection) {
        record.unanswered = true;
        socket.destroy();
        return;
      }
      reply = errorReply(
        failPoint.code ?? 8000,
        failPoint.codeName ?? 'FailPoint',
        failPoint.errmsg ?? `failCommand fail point on ${name}`,
      );
    }
    reply ??= runCommand(request.command, { store: this.store, connectionId, db: request.db });
    if (!request.moreToCome) socket.write(encodeReply(request, reply));
  }
}
