/**
 * A fault-injection TCP proxy for tests: sits between a client and a real server
 * on 127.0.0.1 and can pass traffic through, slow it down, stall it, refuse new
 * connections, or cut every connection at once.
 *
 * ```ts
 * const proxy = await startTcpProxy({ targetPort: 5432 });
 * const url = proxy.url(PG_URL);      // same URL, host:port replaced by the proxy's
 * proxy.stall();                     // new and open connections: accepted, nothing forwarded
 * proxy.slow(50);                    // every chunk, both directions, delayed by 50 ms (order kept)
 * proxy.pass();                      // forward again (held chunks are released in order)
 * proxy.refuse();                    // new connections are accepted and closed at once
 * proxy.cutAll();                    // destroy every open connection now (both sides); returns the count
 * proxy.cutAll({ reset: true });     // same, with a TCP RST instead of a FIN
 * proxy.cutWhen((dir, chunk) => dir === 'up' && chunk.includes('pg_type'));  // cut a connection
 *                                    // (RST) the moment a chunk matches, before forwarding it; once
 * const hold = proxy.holdMessage('pg', (m) => m.type === 'Z');   // protocol-aware: hold the
 *                                    // server's first ReadyForQuery and all that follows it
 * await hold.held;                   // the client waits for it; hold.upstreamPort names the backend
 * await hold.release();              // deliver everything held in ONE write (and the close, if any)
 * proxy.dropMessages('pg', (m) => m.type === 'S' && m.bytes.includes('in_hot_standby'));
 *                                    // protocol-aware: remove matching server messages from every
 *                                    // connection opened from now on (a server that never sends them)
 * await proxy.close();               // cut everything and stop listening (idempotent)
 * ```
 *
 * Modes apply at once to open connections too: a chunk is forwarded, delayed or
 * held according to the mode when it is pumped. In 'stall' mode a new connection
 * is accepted but no upstream connection is opened until the mode changes.
 * `stats()` counts accepted connections and currently open ones.
 */
import net from 'node:net';

export type ProxyMode = 'pass' | 'slow' | 'stall' | 'refuse';

export interface TcpProxyOptions {
  /** Upstream host; default 127.0.0.1. */
  targetHost?: string;
  targetPort: number;
  /** Initial mode; default 'pass'. */
  mode?: ProxyMode;
  /** Delay per chunk in 'slow' mode; default 20 ms. */
  delayMs?: number;
}

export interface TcpProxyStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Client connections open now. */
  open: number;
  /** Connections destroyed by cutAll() or refuse mode. */
  cut: number;
}

/** One server-to-client protocol message, as the hold matcher sees it. */
export interface ProxyMessage {
  /** Index of the message on its connection, from 0. */
  index: number;
  /** PostgreSQL: the type byte as a character ('R', 'S', 'K', 'Z', 'T', ...); MySQL: ''. */
  type: string;
  /** MySQL: the packet's sequence id; PostgreSQL: -1. */
  seq: number;
  /** The bytes of the message received so far (at least its header). */
  bytes: Buffer;
}

/** A hold of the server's messages on one connection, from the first matching message on. */
export interface MessageHold {
  /** Resolves when a message matched: from then on that connection's server bytes are held. */
  readonly held: Promise<void>;
  /** The proxy's local port towards the server on the held connection (pg_stat_activity.client_port, MariaDB's processlist host). */
  readonly upstreamPort: number;
  /** Resolves when the server closed the held connection (its bytes and the close are held too). */
  readonly upstreamClosed: Promise<void>;
  /** Deliver everything held in one write, then the server's close if it came; later bytes pass. */
  release(): Promise<void>;
}

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly mode: ProxyMode;
  /** `url` with its host and port replaced by the proxy's (user, password, path and query kept). */
  url(url: string): string;
  pass(): void;
  slow(delayMs?: number): void;
  stall(): void;
  refuse(): void;
  /**
   * Cut (with a RST) any connection the moment one of its chunks matches, before that chunk is
   * forwarded. `dir` is 'up' (client to server) or 'down'. The trigger fires once, then clears.
   */
  cutWhen(match: ((dir: 'up' | 'down', chunk: Buffer) => boolean) | undefined): void;
  /**
   * Protocol-aware hold of server-to-client traffic: on the first connection where a server message
   * matches, that message and everything after it (including the server closing) is held until
   * `release()`, which delivers it all together. `framing` is 'pg' (type byte + int32 length; the
   * server's first byte answers a startup message, so no SSLRequest) or 'mysql' (int24 length + seq).
   */
  holdMessage(framing: 'pg' | 'mysql', match: (message: ProxyMessage) => boolean): MessageHold;
  /**
   * Remove every server-to-client message that matches, on connections opened from now on (an
   * older server that never sends it; `undefined` stops). Whole messages only: the server's bytes
   * are reassembled into messages and forwarded a message at a time. Applied before holdMessage.
   */
  dropMessages(framing: 'pg' | 'mysql', match: ((message: ProxyMessage) => boolean) | undefined): void;
  /**
   * Destroy every open connection, client and upstream side. Returns how many were cut.
   * `onCut` gets the proxy's local port towards the server of each cut connection that had
   * reached it (pg_stat_activity.client_port, MariaDB's processlist host).
   */
  cutAll(options?: { reset?: boolean; onCut?: (upstreamPort: number) => void }): number;
  stats(): TcpProxyStats;
  /** Cut everything and stop listening. Idempotent. */
  close(): Promise<void>;
}

interface Pipe {
  /** Server-to-client message framing state, while a hold is armed. */
  frames?: FrameState;
  /** The drop filter in force when this connection was accepted, and its incomplete message. */
  drop?: {
    framing: 'pg' | 'mysql';
    match: (message: ProxyMessage) => boolean;
    partial: Buffer;
    index: number;
  };
  client: net.Socket;
  upstream: net.Socket | undefined;
  toUpstream: Chunk[];
  toClient: Chunk[];
  timers: Set<NodeJS.Timeout>;
  closed: boolean;
}

interface Chunk {
  data: Buffer;
  /** Set once a slow-mode timer has been started for this chunk. */
  scheduled?: boolean;
  ready?: boolean;
}

interface FrameState {
  framing: 'pg' | 'mysql';
  index: number;
  /** Bytes of the current message still to come. */
  skip: number;
  /** A header cut at the end of the previous chunk. */
  carry: Buffer | undefined;
}

/**
 * Offsets (in `data`) where new messages start, with their headers, following `state`.
 * A header split across chunks is reported in the chunk that completes it, at offset 0.
 */
function messageStarts(state: FrameState, data: Buffer): Array<{ offset: number; message: ProxyMessage }> {
  const out: Array<{ offset: number; message: ProxyMessage }> = [];
  const headerLength = state.framing === 'pg' ? 5 : 4;
  let chunk = data;
  let base = 0; // offset in `data` of chunk[0]
  let pos = 0;
  if (state.skip > 0) {
    if (state.skip >= chunk.length) {
      state.skip -= chunk.length;
      return out;
    }
    pos = state.skip;
    state.skip = 0;
  } else if (state.carry !== undefined) {
    base = -state.carry.length;
    chunk = Buffer.concat([state.carry, chunk]);
    state.carry = undefined;
  }
  while (pos < chunk.length) {
    if (chunk.length - pos < headerLength) {
      state.carry = Buffer.from(chunk.subarray(pos));
      return out;
    }
    const pg = state.framing === 'pg';
    const length = pg ? 1 + chunk.readUInt32BE(pos + 1) : 4 + chunk.readUIntLE(pos, 3);
    out.push({
      offset: Math.max(0, base + pos),
      message: {
        index: state.index++,
        type: pg ? String.fromCharCode(chunk[pos]!) : '',
        seq: pg ? -1 : chunk[pos + 3]!,
        bytes: chunk.subarray(pos, Math.min(chunk.length, pos + length)),
      },
    });
    pos += length;
  }
  state.skip = pos - chunk.length;
  return out;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const { targetPort } = options;
  let mode: ProxyMode = options.mode ?? 'pass';
  let delayMs = options.delayMs ?? 20;
  let closing: Promise<void> | undefined;
  const pipes = new Set<Pipe>();
  const counts = { accepted: 0, cut: 0 };
  let trigger: ((dir: 'up' | 'down', chunk: Buffer) => boolean) | undefined;
  /** True when the chunk fired the cut trigger (and the pipe is gone). */
  const tripped = (pipe: Pipe, dir: 'up' | 'down', data: Buffer): boolean => {
    if (trigger === undefined || !trigger(dir, data)) return false;
    trigger = undefined;
    counts.cut++;
    destroyPipe(pipe, true);
    return true;
  };

  interface Hold {
    framing: 'pg' | 'mysql';
    match: (message: ProxyMessage) => boolean;
    pipe: Pipe | undefined;
    buffered: Buffer[];
    upstreamClosed: boolean;
    onHeld: () => void;
    onUpstreamClosed: () => void;
  }
  let hold: Hold | undefined;
  let drop: Pipe['drop'];

  /** The server's bytes without the messages the drop filter removes (whole messages only). */
  const filtered = (pipe: Pipe, data: Buffer): Buffer => {
    const d = pipe.drop;
    if (d === undefined) return data;
    const all = d.partial.length > 0 ? Buffer.concat([d.partial, data]) : data;
    const headerLength = d.framing === 'pg' ? 5 : 4;
    const kept: Buffer[] = [];
    let pos = 0;
    while (all.length - pos >= headerLength) {
      const pg = d.framing === 'pg';
      const length = pg ? 1 + all.readUInt32BE(pos + 1) : 4 + all.readUIntLE(pos, 3);
      if (all.length - pos < length) break;
      const bytes = all.subarray(pos, pos + length);
      const message = {
        index: d.index++,
        type: pg ? String.fromCharCode(all[pos]!) : '',
        seq: pg ? -1 : all[pos + 3]!,
        bytes,
      };
      if (!d.match(message)) kept.push(bytes);
      pos += length;
    }
    d.partial = Buffer.from(all.subarray(pos));
    return Buffer.concat(kept);
  };

  /** True when the pipe's server bytes are (now) held and must not be forwarded. */
  const holding = (pipe: Pipe, data: Buffer): boolean => {
    if (hold === undefined) return false;
    if (hold.pipe !== undefined) {
      if (hold.pipe !== pipe) return false;
      hold.buffered.push(data);
      return true;
    }
    pipe.frames ??= { framing: hold.framing, index: 0, skip: 0, carry: undefined };
    for (const { offset, message } of messageStarts(pipe.frames, data)) {
      if (!hold.match(message)) continue;
      hold.pipe = pipe;
      if (offset > 0) {
        pipe.toClient.push({ data: data.subarray(0, offset) });
        pump(pipe);
      }
      hold.buffered.push(data.subarray(offset));
      hold.onHeld();
      return true;
    }
    return false;
  };

  const destroyPipe = (pipe: Pipe, reset = false): void => {
    if (pipe.closed) return;
    pipe.closed = true;
    pipes.delete(pipe);
    for (const t of pipe.timers) clearTimeout(t);
    pipe.timers.clear();
    pipe.toClient.length = 0;
    pipe.toUpstream.length = 0;
    for (const s of [pipe.client, pipe.upstream]) {
      if (!s || s.destroyed) continue;
      if (reset && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
      else s.destroy();
    }
  };

  const openUpstream = (pipe: Pipe): void => {
    if (pipe.upstream || pipe.closed) return;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    pipe.upstream = upstream;
    const upstreamGone = (): void => {
      if (hold !== undefined && hold.pipe === pipe) {
        // the server's close is part of what is held: delivered by release()
        hold.upstreamClosed = true;
        hold.onUpstreamClosed();
        return;
      }
      destroyPipe(pipe);
    };
    upstream.on('error', upstreamGone);
    upstream.on('close', upstreamGone);
    upstream.on('data', (received: Buffer) => {
      const data = filtered(pipe, received);
      if (data.length === 0) return;
      if (tripped(pipe, 'down', data)) return;
      if (holding(pipe, data)) return;
      pipe.toClient.push({ data });
      pump(pipe);
    });
    upstream.once('connect', () => pump(pipe));
  };

  const pumpQueue = (pipe: Pipe, queue: Chunk[], target: net.Socket | undefined): void => {
    if (!target || pipe.closed || target.connecting) return;
    while (queue.length > 0) {
      const chunk = queue[0]!;
      if (mode === 'stall') return;
      if (mode === 'slow' && !chunk.ready) {
        if (!chunk.scheduled) {
          chunk.scheduled = true;
          const timer = setTimeout(() => {
            pipe.timers.delete(timer);
            chunk.ready = true;
            pump(pipe);
          }, delayMs);
          pipe.timers.add(timer);
        }
        // Later chunks get their own timer now, so they are delayed in parallel, not in series.
        for (const later of queue) {
          if (later.scheduled || later.ready) continue;
          later.scheduled = true;
          const timer = setTimeout(() => {
            pipe.timers.delete(timer);
            later.ready = true;
            pump(pipe);
          }, delayMs);
          pipe.timers.add(timer);
        }
        return;
      }
      queue.shift();
      target.write(chunk.data);
    }
  };

  const pump = (pipe: Pipe): void => {
    if (pipe.closed) return;
    if (mode !== 'stall') openUpstream(pipe);
    pumpQueue(pipe, pipe.toUpstream, pipe.upstream);
    pumpQueue(pipe, pipe.toClient, pipe.client);
  };

  const server = net.createServer((client) => {
    counts.accepted++;
    const pipe: Pipe = {
      client,
      upstream: undefined,
      toUpstream: [],
      toClient: [],
      timers: new Set(),
      closed: false,
    };
    if (drop !== undefined) pipe.drop = { ...drop, partial: Buffer.alloc(0), index: 0 };
    client.on('error', () => destroyPipe(pipe));
    client.on('close', () => destroyPipe(pipe));
    if (mode === 'refuse' || closing) {
      counts.cut++;
      destroyPipe(pipe);
      return;
    }
    pipes.add(pipe);
    client.on('data', (data: Buffer) => {
      if (tripped(pipe, 'up', data)) return;
      pipe.toUpstream.push({ data });
      pump(pipe);
    });
    pump(pipe);
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  const setMode = (next: ProxyMode): void => {
    mode = next;
    for (const pipe of [...pipes]) pump(pipe);
  };

  const cutAll = (opts?: { reset?: boolean; onCut?: (upstreamPort: number) => void }): number => {
    const all = [...pipes];
    for (const pipe of all) {
      const upstreamPort = pipe.upstream?.localPort;
      destroyPipe(pipe, opts?.reset);
      if (upstreamPort !== undefined) opts?.onCut?.(upstreamPort);
    }
    counts.cut += all.length;
    return all.length;
  };

  return {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    url(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pass: () => setMode('pass'),
    slow(ms?: number) {
      if (ms !== undefined) delayMs = ms;
      setMode('slow');
    },
    stall: () => setMode('stall'),
    refuse: () => setMode('refuse'),
    cutAll,
    cutWhen(match) {
      trigger = match;
    },
    dropMessages(framing, match) {
      drop = match === undefined ? undefined : { framing, match, partial: Buffer.alloc(0), index: 0 };
    },
    holdMessage(framing, match) {
      if (hold !== undefined) throw new Error('holdMessage: a hold is already armed; release it first');
      let onHeld!: () => void;
      let onUpstreamClosed!: () => void;
      const held = new Promise<void>((r) => {
        onHeld = r;
      });
      const upstreamClosed = new Promise<void>((r) => {
        onUpstreamClosed = r;
      });
      const current: Hold = {
        framing,
        match,
        pipe: undefined,
        buffered: [],
        upstreamClosed: false,
        onHeld,
        onUpstreamClosed,
      };
      hold = current;
      return {
        held,
        upstreamClosed,
        get upstreamPort(): number {
          return current.pipe?.upstream?.localPort ?? 0;
        },
        release(): Promise<void> {
          if (hold === current) hold = undefined;
          const pipe = current.pipe;
          if (pipe === undefined || pipe.closed || pipe.client.destroyed) {
            if (pipe !== undefined) destroyPipe(pipe);
            return Promise.resolve();
          }
          return new Promise<void>((resolve) => {
            const data = Buffer.concat(current.buffered);
            current.buffered.length = 0;
            const done = (): void => {
              if (current.upstreamClosed) destroyPipe(pipe);
              resolve();
            };
            if (current.upstreamClosed) pipe.client.end(data, done);
            else pipe.client.write(data, done);
          });
        },
      };
    },
    stats: () => ({ accepted: counts.accepted, open: pipes.size, cut: counts.cut }),
    close() {
      if (!closing) {
        closing = new Promise<void>((resolve) => {
          server.close(() => resolve());
          cutAll();
        });
      }
      return closing;
    },
  };
}
