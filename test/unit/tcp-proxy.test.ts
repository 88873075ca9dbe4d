import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

// An echo server on loopback stands in for a database.
let echo: net.Server;
let echoPort: number;
let proxy: TcpProxy;

beforeEach(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  proxy = await startTcpProxy({ targetPort: echoPort });
});

afterEach(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function nextData(s: net.Socket, timeoutMs = 2000): Promise<string | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => done('timeout'), timeoutMs);
    const onData = (d: Buffer) => done(d.toString());
    const onClose = () => done('closed');
    function done(v: string | 'timeout' | 'closed') {
      clearTimeout(t);
      s.off('data', onData);
      s.off('close', onClose);
      resolve(v);
    }
    s.on('data', onData);
    s.on('close', onClose);
  });
}

/** Resolves with everything read once it reaches `length` characters (bounded by a timeout). */
function readN(s: net.Socket, length: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    let all = '';
    const t = setTimeout(() => resolve(all), timeoutMs);
    s.on('data', (d) => {
      all += d.toString();
      if (all.length >= length) {
        clearTimeout(t);
        resolve(all);
      }
    });
  });
}

describe('tcp proxy', () => {
  it('passes traffic through and rewrites URLs', async () => {
    const s = await connect();
    const got = nextData(s);
    s.write('hello');
    expect(await got).toBe('hello');
    expect(proxy.url('postgres://u:pw@db.example:5432/test?x=1')).toBe(
      `postgres://u:pw@127.0.0.1:${proxy.port}/test?x=1`,
    );
    s.destroy();
  });

  it('stall holds data until pass, then releases it in order', async () => {
    proxy.stall();
    const s = await connect();
    s.write('a');
    expect(await nextData(s, 150)).toBe('timeout');
    const all = readN(s, 2);
    s.write('b');
    proxy.pass();
    expect(await all).toBe('ab');
    s.destroy();
  });

  it('cutAll closes every open connection and counts them', async () => {
    const a = await connect();
    const b = await connect();
    await new Promise((r) => setTimeout(r, 20));
    const closedA = nextData(a);
    const closedB = nextData(b);
    expect(proxy.cutAll({ reset: true })).toBe(2);
    expect(await closedA).toBe('closed');
    expect(await closedB).toBe('closed');
    expect(proxy.stats().open).toBe(0);
  });

  it('refuse closes new connections at once; slow still delivers everything', async () => {
    proxy.refuse();
    const s = await connect();
    expect(await nextData(s)).toBe('closed');
    proxy.slow(10);
    const t = await connect();
    const all = readN(t, 3);
    for (const c of ['1', '2', '3']) t.write(c);
    expect(await all).toBe('123');
    t.destroy();
  });
});
