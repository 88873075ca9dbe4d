/**
 * TLS with libpq's meanings, shared by the PostgreSQL drivers (`cistern/postgres` and
 * `cistern/pg`): the URL parameters `sslmode` (disable, allow, prefer, require, verify-ca,
 * verify-full), `sslrootcert`, `sslcert`, `sslkey` (files read once, when the driver is
 * created) and the `ssl` option, turned into one plan of `tls.connect` options.
 * libpq's rule is kept: `require` with an `sslrootcert` verifies the CA like `verify-ca`.
 *
 * The postgres.js driver negotiates TLS in its socket gate (it then holds the decrypted
 * stream, so reset reads the transaction status under TLS as on plain text); the pg driver
 * hands the plan's options to `pg.Client` as its `ssl` (pg itself would treat `require` and
 * `verify-ca` as verify-full). Both word TLS failures with `describeTlsError`.
 */
import fs from 'node:fs';
import type tls from 'node:tls';

export type SslMode = 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface TlsPlan {
  mode: SslMode;
  /** Options for `tls.connect` (ca, cert, key, rejectUnauthorized, checkServerIdentity, ...). */
  options: tls.ConnectionOptions;
}

/** The TLS parameters a URL (or the environment) may carry. */
export interface SslParams {
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
}

export const SSL_MODES: readonly string[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
];

/** Remove `name=value` from a URL's query; returns the value (decoded) and the URL without it. */
export function takeParam(url: string, name: string): [string | undefined, string] {
  const re = new RegExp(`([?&])${name}=([^&#]*)(&?)`, 'i');
  const match = re.exec(url);
  if (match === null) return [undefined, url];
  const rest = url.replace(re, (_, lead: string, __: string, tail: string) => (tail === '&' ? lead : ''));
  return [decodeURIComponent(match[2]!), rest];
}

/**
 * Take the TLS parameters out of a URL: `sslmode` (or its alias `ssl`), `sslrootcert`,
 * `sslcert`, `sslkey`. Returns them and the URL without them.
 */
export function takeSslParams(url: string): [SslParams, string] {
  const params: SslParams = {};
  let rest = url;
  for (const name of ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey'] as const) {
    const [value, without] = takeParam(rest, name);
    rest = without;
    if (value !== undefined) params[name === 'ssl' ? 'sslmode' : name] ??= value;
  }
  return [params, rest];
}

/**
 * The plan from the URL's parameters and the `ssl` option (which wins), or undefined for
 * plain text. `ssl`: true = verify-full against the system CAs; a mode string; or
 * `tls.connect` options (verified unless they say `rejectUnauthorized: false`).
 * `who` names the driver in messages (`postgres()`, `pg()`); a bad value throws a TypeError.
 */
export function tlsPlan(params: SslParams, ssl: unknown, who = 'postgres()'): TlsPlan | undefined {
  const files: tls.ConnectionOptions = {};
  const read = (what: string, path: string): Buffer => {
    try {
      return fs.readFileSync(path);
    } catch (error) {
      throw new TypeError(`${who}: cannot read ${what} '${path}': ${(error as Error).message}`);
    }
  };
  if (params.sslrootcert !== undefined && params.sslrootcert !== 'system') {
    files.ca = read('sslrootcert', params.sslrootcert);
  }
  if (params.sslcert !== undefined) files.cert = read('sslcert', params.sslcert);
  if (params.sslkey !== undefined) files.key = read('sslkey', params.sslkey);
  if (typeof ssl === 'object' && ssl !== null) {
    return { mode: 'verify-full', options: { ...files, ...(ssl as tls.ConnectionOptions) } };
  }
  let mode: string | undefined =
    ssl === true ? 'verify-full' : typeof ssl === 'string' ? ssl : ssl === false ? 'disable' : params.sslmode;
  if (mode === 'true') mode = 'verify-full';
  if (mode === 'false') mode = 'disable';
  if (mode === undefined) {
    if (params.sslrootcert === 'system') mode = 'verify-full';
    else if (Object.keys(files).length > 0) mode = 'require';
    else return undefined;
  }
  if (!SSL_MODES.includes(mode)) {
    throw new TypeError(`${who}: sslmode '${mode}' is not one of ${SSL_MODES.join(', ')}`);
  }
  if (mode === 'disable') return undefined;
  const m = mode as SslMode;
  if (m === 'verify-full') return { mode: m, options: { ...files } };
  if (m === 'verify-ca' || (m === 'require' && files.ca !== undefined)) {
    return { mode: 'verify-ca', options: { ...files, checkServerIdentity: () => undefined } };
  }
  return { mode: m, options: { ...files, rejectUnauthorized: false } };
}

/** Node's codes for a certificate that failed verification (chain, signature, dates, name), and OpenSSL's. */
const CERT_CODE =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|UNABLE_TO_DECRYPT|^ERR_TLS_|^ERR_SSL_/;

/** True when `error` is a TLS / certificate failure (worded by `describeTlsError`). */
export function isTlsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CERT_CODE.test(code);
}

/** A TLS failure in words a person can act on (the Node error stays the cause). */
export function describeTlsError(error: unknown, host: string | undefined): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the server certificate does not name the host ${host ?? '?'} (sslmode verify-full): ${message}`;
  }
  if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
    // OpenSSL's alerts: e.g. the server refused the client certificate (sslcert, sslkey)
    return `TLS: the handshake failed: ${message} (${code})`;
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return `TLS: the server certificate is not trusted by the given CA (sslrootcert): ${message} (${code})`;
  }
  return `TLS: ${message}${typeof code === 'string' ? ` (${code})` : ''}`;
}
