/**
 * Rotating credentials on the mongodb driver (issue 9.4): the `password` option, a
 * string or a sync/async function, is resolved once for every new MongoClient, right
 * before it connects, and sent with the user name as the client's credentials. The
 * wire-protocol test server refuses every SASL exchange (it has no users), which is
 * enough to prove the credentials were used (`saslStart` arrives) and that the refusal,
 * like a throwing or rejecting function, is a ConnectError without the password.
 */
import util from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mongodb } from '../../src/drivers/mongodb/index.js';
import { ConnectError } from '../../src/pool/errors.js';
import { connectContext } from '../support/mongo-context.js';
import { MongoWireServer } from '../support/mongo-wire-server.js';
import { expectPasswordFailuresKeepSecrets } from '../support/password-failures.js';

describe('mongodb driver: password as a function (wire-protocol test server)', () => {
  let server: MongoWireServer;
  beforeAll(async () => {
    server = await MongoWireServer.start();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  function urlWithUser(): string {
    const u = new URL(server.url());
    u.username = 'app';
    return u.toString();
  }

  it('is called once per new client; the credentials are sent (saslStart), the refusal is a ConnectError without the password', async () => {
    const secret = 'mongo-rotating-secret-41d0';
    let calls = 0;
    const driver = mongodb(urlWithUser(), {
      password: async () => {
        calls++;
        return secret;
      },
    });
    for (let i = 1; i <= 2; i++) {
      const before = server.commands.length;
      const error = await driver.connect(connectContext({ timeoutMs: 3000 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect(server.commands.slice(before).some((c) => c.name === 'saslStart')).toBe(true);
      const text = `${util.inspect(error, { depth: 10, showHidden: true })} ${(error as Error).stack}`;
      expect(text).not.toContain(secret);
      expect(calls).toBe(i);
    }
  });

  it('a function that throws, rejects, never answers or returns a non-string: ConnectError with the code, no client opened, no secret printed, in the error or in pool events', async () => {
    const before = server.commands.length;
    await expectPasswordFailuresKeepSecrets({
      driver: (password) => mongodb(urlWithUser(), { password: password as () => string }),
      ctx: (timeoutMs) => connectContext({ timeoutMs }),
      secrets: [],
      // the wire-protocol test server has no users: no password can open a connection here
      query: (c) => c.db().command({ ping: 1 }),
    });
    // no function answered: no client ever reached the server
    expect(server.commands.length).toBe(before);
  });

  it('a password option needs a user name', () => {
    expect(() => mongodb(server.url(), { password: 'x' })).toThrow(/needs a user name/);
  });
});
