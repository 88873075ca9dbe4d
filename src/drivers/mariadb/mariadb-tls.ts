/**
 * TLS for the mariadb driver: URL parameters turned into the connector's `ssl`
 * option, and connect failures caused by TLS explained in the ConnectError.
 *
 * URL parameters (libpq's vocabulary, as for the postgres driver; MySQL's `ssl-mode`
 * names are accepted too):
 *
 * | parameter | meaning |
 * |---|---|
 * | `ssl=true` | TLS, server certificate verified against Node's CA store and the host name |
 * | `ssl={"rejectUnauthorized":false}` | any JSON object: the connector's `ssl` option as is |
 * | `sslmode=disable` (`DISABLED`) | no TLS |
 * | `sslmode=require` (`REQUIRED`) | TLS, certificate not verified (with `sslrootcert`: as `verify-ca`, as libpq does) |
 * | `sslmode=verify-ca` (`VERIFY_CA`) | TLS, certificate chain verified, host name not checked |
 * | `sslmode=verify-full` (`VERIFY_IDENTITY`) | TLS, chain and host name verified |
 * | `sslrootcert=<file>` (or `sslca`) | the CA certificate(s) to trust (PEM); alone it means `verify-full` |
 * | `sslcert=<file>`, `sslkey=<file>` | a client certificate and its key (PEM) |
 *
 * Files are read once, when the driver is created. `prefer`/`allow` are refused: the
 * connector cannot fall back between TLS and plain text.
 */
import fs from 'node:fs';
import { ConnectError, isPoolError, PoolConfigError } from '../../pool/errors.js';

const TLS_PARAMS = ['ssl', 'sslmode', 'ssl-mode', 'sslrootcert', 'sslca', 'sslcert', 'sslkey'] as const;

const MODES: Record<string, 'disable' | 'require' | 'verify-ca' | 'verify-full'> = {
  disable: 'disable',
  disabled: 'disable',
  require: 'require',
  required: 'require',
  'verify-ca': 'verify-ca',
  verify_ca: 'verify-ca',
  'verify-full': 'verify-full',
  verify_identity: 'verify-full',
};

function readPem(param: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PoolConfigError(
      param,
      `invalid MariaDB URL option ${param}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); expected a readable PEM file`,
    );
  }
}

/**
 * Take the TLS parameters out of a URL's query and return the connector's `ssl` value
 * (undefined: the URL says nothing about TLS).
 */
export function takeTlsParams(params: URLSearchParams): boolean | Record<string, unknown> | undefined {
  const got = new Map<string, string>();
  for (const key of TLS_PARAMS) {
    const value = params.get(key);
    if (value !== null) got.set(key, value);
    params.delete(key);
  }
  if (got.size === 0) return undefined;
  const sslRaw = got.get('ssl');
  let base: boolean | Record<string, unknown> | undefined;
  if (sslRaw !== undefined) {
    const trimmed = sslRaw.trim();
    if (trimmed.startsWith('{')) {
      try {
        base = JSON.parse(trimmed) as Record<string, unknown>;
      } catch {
        throw new PoolConfigError(
          'ssl',
          'invalid MariaDB URL option ssl: expected true, false or a JSON object',
        );
      }
    } else if (trimmed === 'true' || trimmed === '1') base = true;
    else if (trimmed === 'false' || trimmed === '0') base = false;
    else
      throw new PoolConfigError(
        'ssl',
        `invalid MariaDB URL option ssl=${sslRaw}: expected true, false or a JSON object`,
      );
  }
  const modeRaw = got.get('sslmode') ?? got.get('ssl-mode');
  let mode = modeRaw === undefined ? undefined : MODES[modeRaw.toLowerCase()];
  if (modeRaw !== undefined && mode === undefined) {
    const why = /^(prefer|allow|preferred)$/i.test(modeRaw)
      ? ': the mariadb connector cannot fall back between TLS and plain text, choose one'
      : '';
    throw new PoolConfigError(
      'sslmode',
      `invalid MariaDB URL option sslmode=${modeRaw}${why}; expected disable, require, verify-ca or verify-full (or DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)`,
    );
  }
  const caFile = got.get('sslrootcert') ?? got.get('sslca');
  const certFile = got.get('sslcert');
  const keyFile = got.get('sslkey');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new PoolConfigError(
      certFile === undefined ? 'sslcert' : 'sslkey',
      'invalid MariaDB URL options: sslcert and sslkey go together (a client certificate and its key)',
    );
  }
  if (mode === 'disable') return false;
  if (mode === undefined && base === false) return false;
  const ssl: Record<string, unknown> = typeof base === 'object' ? { ...base } : {};
  if (caFile !== undefined) ssl.ca = readPem(got.has('sslrootcert') ? 'sslrootcert' : 'sslca', caFile);
  if (certFile !== undefined && keyFile !== undefined) {
    ssl.cert = readPem('sslcert', certFile);
    ssl.key = readPem('sslkey', keyFile);
  }
  // libpq: `require` with a root certificate verifies the chain, as verify-ca
  if (mode === 'require' && caFile !== undefined) mode = 'verify-ca';
  if (mode === 'require') ssl.rejectUnauthorized = false;
  if (mode === 'verify-ca') {
    ssl.rejectUnauthorized = true;
    ssl.checkServerIdentity = () => undefined;
  }
  if (mode === 'verify-full') ssl.rejectUnauthorized = true;
  return Object.keys(ssl).length === 0 ? true : ssl;
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A ConnectError that says what went wrong with TLS, or the error unchanged.
 * `display` is the target without password; `ssl` the connector option used.
 */
export function explainTlsFailure(error: unknown, display: string, host: string, ssl: unknown): unknown {
  if (!isPoolError(error) || error.code !== 'CONNECT_FAILED') return error;
  const cause = error.cause;
  const code = codeOf(cause);
  const message = cause instanceof Error ? cause.message : String(cause);
  let what: string | undefined;
  if (code !== undefined && UNTRUSTED.has(code)) {
    what =
      `TLS: the server's certificate is not trusted (${message}): give the CA that signed it ` +
      '(ssl: { ca } or ?sslrootcert=<file>), or ?sslmode=require to encrypt without verifying';
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    what = `TLS: the server's certificate is not valid now (${message})`;
  } else if (code === 'ER_TLS_IDENTITY_ERROR' || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    what =
      `TLS: the server's certificate does not name the host ${host} (${message}): connect by a name the ` +
      'certificate lists, or ?sslmode=verify-ca to check the CA only';
  } else if (code === 'ER_SERVER_SSL_DISABLED') {
    what = `TLS was requested but the server does not offer it (${message})`;
  } else if (!ssl && (cause as { errno?: unknown } | undefined)?.errno === 1045) {
    what =
      `${message} — this connection did not use TLS: a server with require_secure_transport=ON refuses ` +
      'plain-text logins with this same error; connect with TLS (?ssl=true, ?sslmode=verify-full&sslrootcert=<file>, or the ssl option)';
  }
  if (what === undefined) return error;
  return new ConnectError(`cannot connect to ${display}: ${what}`, { cause });
}
