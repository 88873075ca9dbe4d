/**
 * TLS for the postgres.js driver, negotiated by cistern's socket gate itself (SSLRequest,
 * then `tls.connect` over the TCP socket) instead of by postgres.js: the gate then holds
 * the decrypted stream, so `reset` reads the transaction status under TLS as on plain
 * text (no ROLLBACK round trip per check-in), and both postgres.js majors get libpq's
 * URL parameters: `sslmode` (disable, allow, prefer, require, verify-ca, verify-full),
 * `sslrootcert`, `sslcert`, `sslkey` (files read once, when the driver is created).
 * libpq's rule is kept: `require` with an `sslrootcert` verifies the CA like `verify-ca`.
 */
import fs from 'node:fs';
import type tls from 'node:tls';

export type SslMode = 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface TlsPlan {
  mode: SslMode;
  /** Options for `tls.connect` (ca, cert, key, rejectUnauthorized, checkServerIdentity, ...). */
  options: tls.ConnectionOptions;
}

const MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Remove `name=value` from a URL's query; returns the value (decoded) and the URL without it. */
export function takeParam(url: string, name: string): [string | undefined, string] {
  const re = new RegExp(`([?&])${name}=([^&#]*)(&?)`, 'i');
  const match = re.exec(url);
  if (match === null) return [undefined, url];
  const rest = url.replace(re, (_, lead: string, __: string, tail: string) => (tail === '&' ? lead : ''));
  return [decodeURIComponent(match[2]!), rest];
}

/**
 * The plan from the URL's parameters and the `ssl` option (which wins), or undefined for
 * plain text. `ssl`: true = verify-full against the system CAs; a mode string; or
 * `tls.connect` options (verified unless they say `rejectUnauthorized: false`).
 */
export function tlsPlan(
  params: { sslmode?: string; sslrootcert?: string; sslcert?: string; sslkey?: string },
  ssl: unknown,
): TlsPlan | undefined {
  const files: tls.ConnectionOptions = {};
  const read = (what: string, path: string): Buffer => {
    try {
      return fs.readFileSync(path);
    } catch (error) {
      throw new TypeError(`postgres(): cannot read ${what} '${path}': ${(error as Error).message}`);
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
  if (!MODES.includes(mode)) {
    throw new TypeError(`postgres(): sslmode '${mode}' is not one of ${MODES.join(', ')}`);
  }
  if (mode === 'disable') return undefined;
  const m = mode as SslMode;
  if (m === 'verify-full') return { mode: m, options: { ...files } };
  if (m === 'verify-ca' || (m === 'require' && files.ca !== undefined)) {
    return { mode: 'verify-ca', options: { ...files, checkServerIdentity: () => undefined } };
  }
  return { mode: m, options: { ...files, rejectUnauthorized: false } };
}

/** A TLS failure in words a person can act on (the Node error stays the cause). */
export function describeTlsError(error: unknown, host: string | undefined): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the server certificate does not name the host ${host ?? '?'} (sslmode verify-full): ${message}`;
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return `TLS: the server certificate is not trusted by the given CA (sslrootcert): ${message} (${code})`;
  }
  return `TLS: ${message}${typeof code === 'string' ? ` (${code})` : ''}`;
}
