/**
 * Rotating credentials (RDS IAM tokens, Azure AD tokens, Vault leases): a driver's
 * `password` may be a function, sync or async, called once for every new physical
 * connection, right before it is opened. The drivers resolve it themselves, before
 * handing a plain string to the database client, so it is called whatever the
 * server's authentication method, its failure is the connect's failure (never an
 * unhandled rejection inside a client library), and it obeys the pool's connect
 * timeout and abort signal.
 */

/** A password, or a function returning one (sync or async), called for each new connection. */
export type PasswordSource = string | (() => string | Promise<string>);

interface Deadline {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The password for one new connection. Rejects with an Error whose `code` is
 * `PASSWORD_FUNCTION_FAILED` (the function threw or rejected: its error is the
 * `cause`), `PASSWORD_NOT_A_STRING`, or `PASSWORD_TIMEOUT`, or with the signal's reason.
 * The message never contains a password.
 */
export function resolvePassword(
  source: PasswordSource | undefined,
  deadline: Deadline,
): Promise<string | undefined> | string | undefined {
  if (typeof source !== 'function') return source;
  return new Promise<string | undefined>((resolve, reject) => {
    const { signal, timeoutMs } = deadline;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason ?? new Error('the connect was aborted'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(timeoutMs) && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(
        () => {
          done();
          reject(coded(`the password function gave no answer within ${timeoutMs} ms`, 'PASSWORD_TIMEOUT'));
        },
        Math.max(0, timeoutMs),
      );
    }
    let result: unknown;
    try {
      result = source();
    } catch (error) {
      done();
      reject(failed(error));
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        done();
        if (typeof value === 'string') resolve(value);
        else {
          reject(
            coded(
              `the password function returned ${value === null ? 'null' : typeof value}; expected a string`,
              'PASSWORD_NOT_A_STRING',
            ),
          );
        }
      },
      (error: unknown) => {
        done();
        reject(failed(error));
      },
    );
  });
}

function failed(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return coded(`the password function failed: ${reason}`, 'PASSWORD_FUNCTION_FAILED', cause);
}

function coded(message: string, code: string, cause?: unknown): Error & { code: string } {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  error.code = code;
  return error;
}
