/**
 * A pooled postgres.js socket gets all of cistern's own properties before Node connects
 * it (issue 11): every property added to a socket later is a new map for Node's `_handle`
 * getter, which every read and write of every socket runs; with five maps of cistern's
 * sockets it went megamorphic and cost each query ~220 instructions (callgrind,
 * bench/pg-instructions.sh `drv` against `free`).
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool } from '../../src/index.js';
import { PG_URL, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

/** Own properties cistern may set, without Node's lazily cached `_peername`/`_sockname`. */
const own = (socket: net.Socket): string[] =>
  Object.keys(socket).filter((k) => !/^_(peername|sockname)$/.test(k));

describe.skipIf(!up)('the sockets of a postgres.js pool', () => {
  afterEach(() => vi.restoreAllMocks());

  it('have every own property cistern adds before they connect, and none is added after', async () => {
    const connect = net.connect;
    const seen: Array<{ socket: net.Socket; atConnect: string[] | undefined }> = [];
    vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
      const socket = (connect as (...a: unknown[]) => net.Socket)(...args);
      const entry = { socket, atConnect: undefined as string[] | undefined };
      seen.push(entry);
      socket.once('connect', () => {
        entry.atConnect = own(socket);
      });
      return socket;
    }) as typeof net.connect);
    const pool = createPool(postgres(PG_URL), { size: 2, maxOverflow: 0, telemetry: false });
    try {
      await Promise.all([1, 2].map(() => pool.use((c) => c.sql`select 1`)));
      await pool.use((c) => c.sql`select ${'x'}::text as v`);
      expect(seen.length).toBe(2);
      for (const { socket, atConnect } of seen) {
        expect(atConnect).toBeDefined();
        // the emit wrapper is one of them: installed with the others, not after the connect
        expect(atConnect).toContain('emit');
        expect(own(socket)).toEqual(atConnect);
      }
    } finally {
      await pool.close();
    }
  });
});
