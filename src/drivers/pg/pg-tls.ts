/**
 * TLS for `cistern/pg` with libpq's meanings (src/drivers/tls-plan.ts, shared with the
 * postgres.js driver). pg 8 treats `sslmode=prefer`, `require` and `verify-ca` as
 * verify-full (pg-connection-string sets `ssl = {}` and Node verifies by default) unless
 * `uselibpqcompat=true`; here `sslmode`, `sslrootcert`, `sslcert`, `sslkey` (and pg's alias
 * `ssl`) are taken out of the URL, read once, and handed to every `pg.Client` as its `ssl`
 * option, so pg never sees them:
 *
 * - `disable`: plain text; `allow`, `prefer`: TLS without verification, plain text when
 *   the server answers the SSLRequest with 'N' (see pg-open.ts);
 * - `require`: encrypted, not verified (with `sslrootcert`: the CA is verified, as verify-ca);
 * - `verify-ca`: the chain against `sslrootcert`, no host-name check;
 * - `verify-full`: the chain and the host name.
 *
 * The `ssl` option wins over the URL: `true`, a mode string, or `tls.connect` options.
 * pg's own `sslmode=no-verify` stays: encrypted, nothing verified. `PGSSLMODE` is read as libpq does.
 */
import type tls from 'node:tls';
import { PoolConfigError } from '../../pool/errors.js';
import { type SslMode, type SslParams, takeParam, takeSslParams, tlsPlan } from '../tls-plan.js';
import { copyConfig } from './pg-hosts.js';

export interface PgTls {
  /** The client config with TLS resolved: the URL without TLS parameters, `ssl` set (or the input as is). */
  clientConfig: Record<string, unknown>;
  /** undefined: plain text (or TLS left to pg, when nothing about TLS was given). */
  mode: SslMode | undefined;
  /** `allow` / `prefer`: a server that refuses TLS is connected to in plain text. */
  plainFallback: boolean;
}

/** Resolve TLS for a pg client config; throws PoolConfigError on a bad sslmode or an unreadable file. */
export function pgTls(input: Record<string, unknown>): PgTls {
  let params: SslParams = {};
  let url = typeof input.connectionString === 'string' ? input.connectionString : undefined;
  if (url !== undefined) {
    [params, url] = takeSslParams(url);
    // cistern always reads sslmode as libpq does: pg's switch for it has nothing left to do
    url = takeParam(url, 'uselibpqcompat')[1];
  }
  const ssl = input.ssl;
  params.sslmode ??= process.env.PGSSLMODE || undefined;
  const given = ssl !== undefined || Object.values(params).some((v) => v !== undefined);
  if (!given) return { clientConfig: input, mode: undefined, plainFallback: false };
  let noVerify = false;
  if (params.sslmode === 'no-verify' && (ssl === undefined || ssl === 'no-verify')) {
    noVerify = true;
    params.sslmode = 'require';
  }
  let plan: ReturnType<typeof tlsPlan>;
  try {
    plan = tlsPlan(params, ssl === 'no-verify' ? 'require' : ssl, 'pg()');
  } catch (error) {
    const message = (error as Error).message;
    const file = /cannot read (sslrootcert|sslcert|sslkey)/.exec(message)?.[1];
    throw new PoolConfigError(file ?? (ssl !== undefined ? 'ssl' : 'sslmode'), message);
  }
  const clientConfig = copyConfig(input);
  if (url !== undefined) {
    // pg-connection-string turns `sslnegotiation=direct` into `ssl: true` over the config's
    // `ssl`: it goes to the config key pg reads too
    const [negotiation, rest] = takeParam(url, 'sslnegotiation');
    if (negotiation !== undefined) clientConfig.sslnegotiation ??= negotiation;
    clientConfig.connectionString = rest;
  }
  if (plan === undefined) {
    clientConfig.ssl = false;
    return { clientConfig, mode: undefined, plainFallback: false };
  }
  const options: tls.ConnectionOptions = { ...plan.options };
  if (noVerify) {
    options.rejectUnauthorized = false;
    delete options.checkServerIdentity;
  }
  clientConfig.ssl = options;
  return { clientConfig, mode: plan.mode, plainFallback: plan.mode === 'allow' || plan.mode === 'prefer' };
}
