/**
 * The failure cases of a `password` function, the same for every driver (issue 9.4: "a
 * rejecting password function is a ConnectError, never a crash, never printed"): it throws,
 * rejects, never answers, or returns something that is not a string (holding a secret). Each
 * connect fails with a ConnectError whose cause has the code, and while it happens nothing
 * printed (console.*, stdout, stderr, process warnings), nothing in the error's message, stack
 * or cause chain, and nothing in the pool's events holds a secret (secret-watch.ts).
 *
 * Then a pool whose function first answers (a rotated secret that works) and then fails: the
 * second connection's ConnectError reaches its caller, and the secret the first call returned,
 * like every other, shows nowhere. Unhandled rejections fail the test (setup.ts).
 */
import { expect } from 'vitest';
import { createPool } from '../../src/index.js';
import type { ConnectContext, Driver } from '../../src/pool/driver.js';
import { ConnectError } from '../../src/pool/errors.js';
import { errorText, expectNoSecret, recordPoolEvents, watchOutput } from './secret-watch.js';

type PasswordFn = (...args: never[]) => unknown;

export interface PasswordFailureTarget<C> {
  /** A driver on the target whose `password` option is `password`. */
  driver(password: PasswordFn): Driver<C>;
  /** A ConnectContext for driving the driver directly. */
  ctx(timeoutMs: number): ConnectContext;
  /** Texts that must never show (URL passwords, the working password, ...). */
  secrets: readonly string[];
  /** A password the server accepts, returned by the pool's first call; omit when none can work. */
  accepted?: string;
  /** A round trip on a pooled connection. */
  query(conn: C): Promise<unknown>;
}

const notAStringSecret = `not-a-string-secret-${process.pid}`;

/** The function's failures, with the code each is reported with. */
export const PASSWORD_FAILURES: ReadonlyArray<{
  name: string;
  code: string;
  message: RegExp;
  fn: () => unknown;
}> = [
  {
    name: 'throws',
    code: 'PASSWORD_FUNCTION_FAILED',
    message: /password function failed: token service down/,
    fn: () => {
      throw new Error('token service down');
    },
  },
  {
    name: 'rejects',
    code: 'PASSWORD_FUNCTION_FAILED',
    message: /password function failed: token service down/,
    fn: async () => {
      throw new Error('token service down');
    },
  },
  {
    name: 'never answers',
    code: 'PASSWORD_TIMEOUT',
    message: /password function gave no answer within \d+ ms/,
    fn: () => new Promise(() => {}),
  },
  {
    name: 'returns an object holding a secret',
    code: 'PASSWORD_NOT_A_STRING',
    message: /password function returned object; expected a string/,
    fn: () => ({ token: notAStringSecret, toString: () => notAStringSecret }),
  },
];

function codeOfCause(error: unknown): string | undefined {
  return ((error as { cause?: { code?: string } }).cause ?? {}).code;
}

/** Every failure case against `target`: ConnectError with the code, no secret anywhere. */
export async function expectPasswordFailuresKeepSecrets<C>(target: PasswordFailureTarget<C>): Promise<void> {
  const secrets = [...target.secrets, notAStringSecret];
  for (const { name, code, message, fn } of PASSWORD_FAILURES) {
    const driver = target.driver(fn);
    const watch = watchOutput();
    let error: unknown;
    try {
      error = await driver.connect(target.ctx(300)).then(
        async (conn) => {
          await driver.close(conn);
          return 'connected';
        },
        (e: unknown) => e,
      );
      // anything the driver or a library prints late (a warning on the next tick) is caught too
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      watch.stop();
    }
    expect(error, name).toBeInstanceOf(ConnectError);
    expect((error as Error).message, name).toMatch(message);
    expect(codeOfCause(error), name).toBe(code);
    expectNoSecret(secrets, { output: watch.text(), error: errorText(error) });
  }

  // a pool: the first call answers (when a password can work), every later one rejects
  let calls = 0;
  const pool = createPool(
    target.driver(async () => {
      calls++;
      if (calls === 1 && target.accepted !== undefined) return target.accepted;
      throw new Error('token service down');
    }),
    { size: 2, maxOverflow: 0, acquireTimeoutMs: 3000, connectTimeoutMs: 2000, telemetry: false },
  );
  const events = recordPoolEvents(pool);
  const watch = watchOutput();
  let error: unknown;
  try {
    const held = target.accepted === undefined ? undefined : await pool.acquire();
    if (held !== undefined) await target.query(held);
    error = await pool.use((c) => target.query(c)).catch((e: unknown) => e);
    if (held !== undefined) pool.release(held);
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    watch.stop();
    await pool.close();
  }
  expect(error).toBeInstanceOf(ConnectError);
  expect(codeOfCause(error)).toBe('PASSWORD_FUNCTION_FAILED');
  expect(events.names()).toContain('connectFailed');
  if (target.accepted !== undefined) expect(events.names()).toContain('connect');
  expect(calls).toBe(target.accepted === undefined ? 1 : 2);
  expectNoSecret([...secrets, ...(target.accepted === undefined ? [] : [target.accepted])], {
    output: watch.text(),
    error: errorText(error),
    events: events.text(),
  });
}
