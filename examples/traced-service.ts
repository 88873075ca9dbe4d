/**
 * A small traced HTTP service on cistern + cistern/postgres.
 *
 *   docker run --rm -p 16686:16686 -p 4317:4317 -p 4318:4318 cr.jaegertracing.io/jaegertracing/jaeger:2.15.0
 *   OTEL_SERVICE_NAME=cistern-example npx tsx examples/traced-service.ts --load 64
 *   open http://localhost:16686  (service "cistern-example")
 *
 * Routes:
 *   GET  /users/:id    one query through pool.use
 *   POST /visit/:id    a serializable transaction (UPDATE + SELECT) with retries
 *   GET  /report       a slow query (pg_sleep 50 ms): under load, callers wait for a connection
 *
 * `--load N` starts N concurrent clients against the service for `--seconds S`
 * (default 10), prints a summary, and exits; without it the service just listens
 * on PORT (default 3000). DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { postgres } from '../src/drivers/postgres/index.js';
import { createPool } from '../src/index.js';
import { shutdownTelemetry } from './otel.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const loadClients = flag('--load', 0);
const loadSeconds = flag('--seconds', 10);

const pool = createPool(postgres(DATABASE_URL), {
  name: 'example',
  size: 5,
  maxOverflow: 5,
  acquireTimeoutMs: 5_000,
});
const tracer = trace.getTracer('cistern-example');

await pool.use(async (c) => {
  await c.sql`create table if not exists example_users (id int primary key, name text not null, visits int not null default 0)`;
  await c.sql`insert into example_users (id, name) select g, 'user ' || g from generate_series(1, 100) g on conflict do nothing`;
});

type Handler = (params: string[]) => Promise<unknown>;
const routes: { method: string; pattern: RegExp; route: string; handler: Handler }[] = [
  {
    method: 'GET',
    pattern: /^\/users\/(\d+)$/,
    route: '/users/:id',
    handler: ([id]) =>
      pool.use((c) => c.sql`select id, name, visits from example_users where id = ${Number(id)}`),
  },
  {
    method: 'POST',
    pattern: /^\/visit\/(\d+)$/,
    route: '/visit/:id',
    handler: ([id]) =>
      pool.transaction(
        async (c) => {
          await c.sql`update example_users set visits = visits + 1 where id = ${Number(id)}`;
          return c.sql`select visits from example_users where id = ${Number(id)}`;
        },
        { isolation: 'serializable', retries: 5 },
      ),
  },
  {
    method: 'GET',
    pattern: /^\/report$/,
    route: '/report',
    handler: () => pool.use((c) => c.sql`select pg_sleep(0.05), count(*) from example_users`),
  },
];

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
  const route = match?.route ?? 'unknown';
  // continue the caller's trace when it sent a traceparent header
  const parent = propagation.extract(context.active(), req.headers);
  tracer.startActiveSpan(
    `${req.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method ?? 'GET', 'http.route': route },
    },
    parent,
    async (span) => {
      try {
        if (!match) {
          res.writeHead(404).end();
          return;
        }
        const result = await match.handler(match.pattern.exec(url.pathname)!.slice(1));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
        span.setAttribute('http.response.status_code', 200);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', (error as { code?: string }).code ?? 'Error');
        res.writeHead(503).end();
      } finally {
        span.end();
      }
    },
  );
});

async function shutdown(): Promise<void> {
  await new Promise((resolve) => server.close(resolve));
  await pool.close();
  await shutdownTelemetry();
}

/** N concurrent clients hitting random routes until the deadline (bounded in time). */
async function load(port: number, clients: number, seconds: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const deadline = Date.now() + seconds * 1000;
  const counts: Record<string, number> = {};
  const request = (method: string, path: string) =>
    new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const r = Math.random();
        const id = 1 + Math.floor(Math.random() * 100);
        const status =
          r < 0.6
            ? await request('GET', `/users/${id}`)
            : r < 0.9
              ? await request('POST', `/visit/${id % 10}`)
              : await request('GET', '/report');
        counts[status] = (counts[status] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  console.log(`load: ${clients} clients for ${seconds}s, responses by status: ${JSON.stringify(counts)}`);
  console.log(`pool: ${JSON.stringify(pool.stats())}`);
}

server.listen(Number(process.env.PORT ?? (loadClients > 0 ? 0 : 3000)), '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo;
  console.log(`traced-service listening on http://127.0.0.1:${port}`);
  if (loadClients > 0) {
    await load(port, loadClients, loadSeconds);
    await shutdown();
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void shutdown().then(() => process.exit(0));
  });
}
