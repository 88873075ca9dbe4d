/**
 * diagnostics_channel against the real servers, with no OpenTelemetry SDK
 * registered: cistern/postgres (tagged templates, unsafe, errors, transactions)
 * and cistern/mariadb publish on cistern:query / cistern:transaction /
 * cistern:pool:*, never a parameter value or a password; logQueries prints them.
 */
import dc from 'node:diagnostics_channel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mariadb } from '../../src/drivers/mariadb/index.js';
import { postgres } from '../../src/drivers/postgres/index.js';
import {
  createPool,
  logQueries,
  POOL_CHANNELS,
  QUERY_CHANNEL,
  type QueryMessage,
  TRANSACTION_CHANNEL,
  type TransactionMessage,
} from '../../src/index.js';
import { MARIADB_URL, PG_URL, serverAvailable } from '../support/servers.js';

const SECRET = 'chan-secret-987654';
const PASSWORD = 'cistern-pw-secret';

function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = PASSWORD; // trust auth / empty root password: ignored by the servers here
  return u.href;
}

type Event = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
const EVENTS: Event[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];

function record<M>(name: string) {
  const seen: { event: Event; message: M; copy: string }[] = [];
  const handlers = Object.fromEntries(
    EVENTS.map((event) => [
      event,
      (message: M) =>
        seen.push({
          event,
          message,
          copy: JSON.stringify(message, (_k, v) =>
            v instanceof Error ? { code: (v as { code?: unknown }).code } : v,
          ),
        }),
    ]),
  ) as unknown as dc.TracingChannelSubscribers<object>;
  const channel = dc.tracingChannel(name);
  channel.subscribe(handlers);
  return { seen, stop: () => channel.unsubscribe(handlers) };
}

const stops: (() => unknown)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function everything(seen: { copy: string }[]): string {
  return seen.map((s) => s.copy).join('\n');
}

const pgAvailable = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');
const mariaAvailable = await serverAvailable('MariaDB', MARIADB_URL, 'MARIADB_URL');

describe.skipIf(!pgAvailable)('channels with cistern/postgres', () => {
  const pool = createPool(postgres(withPassword(PG_URL)), { name: 'chan-pg', size: 2, maxOverflow: 0 });
  afterAll(() => pool.close());

  it('tagged templates, unsafe with and without parameters, a failing query', async () => {
    const q = record<QueryMessage>(QUERY_CHANNEL);
    stops.push(q.stop);
    await pool.use(async (c) => {
      await c.sql`select ${SECRET}::text as v`;
      await c.sql.unsafe('select $1::text as v', [SECRET]);
      await c.sql.unsafe(`select '${SECRET}' as v, 42 as n`);
      await expect(c.sql`select 1/0 as ${c.sql(SECRET)}`).rejects.toMatchObject({ code: '22012' });
    });
    const starts = q.seen.filter((s) => s.event === 'start').map((s) => s.message);
    expect(starts.map((m) => m.text)).toEqual([
      'select $1::text as v',
      'select $1::text as v',
      'select ? as v, ? as n',
      `select 1/0 as "${SECRET}"`,
    ]);
    for (const m of starts) {
      expect(m).toMatchObject({
        pool: 'chan-pg',
        driver: 'postgres',
        system: 'postgresql',
        database: new URL(PG_URL).pathname.slice(1),
      });
      expect(m.connectionId).toBeGreaterThan(0);
      expect(m.durationMs).toBeGreaterThanOrEqual(0);
    }
    const failed = q.seen.filter((s) => s.event === 'error');
    expect(failed).toHaveLength(1);
    expect((failed[0].message.error as { code: string }).code).toBe('22012');
    // an identifier is query text, not a parameter value; the values never appear
    const all = everything(q.seen.filter((s) => !s.message.text?.includes('1/0')));
    expect(all).not.toContain(SECRET);
    expect(everything(q.seen)).not.toContain(PASSWORD);
  });

  it('a transaction: one cistern:transaction message around BEGIN, the queries and COMMIT', async () => {
    const t = record<TransactionMessage>(TRANSACTION_CHANNEL);
    const q = record<QueryMessage>(QUERY_CHANNEL);
    stops.push(t.stop, q.stop);
    const checkouts: unknown[] = [];
    const onCheckout = (m: unknown) => checkouts.push(m);
    dc.subscribe(POOL_CHANNELS.checkout, onCheckout);
    stops.push(() => dc.unsubscribe(POOL_CHANNELS.checkout, onCheckout));
    await pool.transaction(async (tx) => tx.sql`select ${SECRET}::text`, { isolation: 'repeatable read' });
    expect(t.seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(t.seen[3].message).toMatchObject({
      pool: 'chan-pg',
      outcome: 'committed',
      attempts: 1,
      isolation: 'repeatable read',
    });
    const ops = q.seen.filter((s) => s.event === 'start').map((s) => s.message.text ?? s.message.operation);
    expect(ops[0]).toMatch(/^begin/i);
    expect(ops[1]).toBe('select $1::text');
    expect(ops.at(-1)).toMatch(/^commit/i);
    expect(checkouts).toEqual([expect.objectContaining({ pool: 'chan-pg', waitMs: expect.any(Number) })]);
  });

  it('logQueries prints the sanitized text, duration, pool and connection', async () => {
    const lines: string[] = [];
    stops.push(logQueries({ sink: (line) => lines.push(line), pool: 'chan-pg' }));
    await pool.use((c) => c.sql.unsafe(`select '${SECRET}' as v`));
    expect(lines).toEqual([
      expect.stringMatching(/^cistern query \d+\.\d ms pool=chan-pg conn=\d+: select \? as v$/),
    ]);
  });
});

describe.skipIf(!mariaAvailable)('channels with cistern/mariadb', () => {
  const pool = createPool(mariadb(withPassword(MARIADB_URL).replace(`:${PASSWORD}@`, '@')), {
    name: 'chan-maria',
    size: 2,
    maxOverflow: 0,
  });
  afterAll(() => pool.close());

  it('query, execute, a failing query, a transaction', async () => {
    const q = record<QueryMessage>(QUERY_CHANNEL);
    const t = record<TransactionMessage>(TRANSACTION_CHANNEL);
    stops.push(q.stop, t.stop);
    await pool.use(async (c) => {
      await c.query('SELECT ? AS v', [SECRET]);
      await c.execute('SELECT ? AS v', [SECRET]);
      await c.query(`SELECT '${SECRET}' AS v`);
      await expect(c.query('SELECT * FROM chan_no_such_table_x')).rejects.toMatchObject({ errno: 1146 });
    });
    await pool.transaction(async (tx) => tx.query('SELECT ?', [SECRET]));
    const starts = q.seen.filter((s) => s.event === 'start').map((s) => s.message);
    expect(starts.slice(0, 4).map((m) => m.text)).toEqual([
      'SELECT ? AS v',
      'SELECT ? AS v',
      'SELECT ? AS v',
      'SELECT * FROM chan_no_such_table_x',
    ]);
    for (const m of starts) expect(m).toMatchObject({ pool: 'chan-maria', driver: 'mariadb' });
    expect(
      q.seen.filter((s) => s.event === 'error').map((s) => (s.message.error as { errno: number }).errno),
    ).toEqual([1146]);
    expect(t.seen.at(-1)!.message).toMatchObject({ pool: 'chan-maria', outcome: 'committed' });
    expect(everything(q.seen)).not.toContain(SECRET);
    expect(everything(t.seen)).not.toContain(SECRET);
  });
});
