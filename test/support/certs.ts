/**
 * Test certificates made with the machine's `openssl` at test time (EC P-256: fast).
 *
 * ```ts
 * import { makeCerts } from '../support/certs.js';
 * const certs = makeCerts('/tmp/some-dir', { owner: 'postgres' });
 * certs.ca            // path of the CA certificate (PEM) that signed everything below
 * certs.serverCert    // server certificate: CN=localhost, SAN DNS:localhost, IP:127.0.0.1 (NOT 127.0.0.2)
 * certs.serverKey     // its key, mode 0600, owned by `owner` (PostgreSQL refuses a group-readable key)
 * certs.clientCert    // client certificate, CN=cistern_cert (the role/user the servers map it to)
 * certs.clientKey     // its key (mode 0600, root-readable)
 * certs.otherCa       // a second, unrelated CA: "wrong CA" cases
 * certs.pem.ca / .clientCert / .clientKey / .otherCa   // the same files' contents, as strings
 * ```
 *
 * Hostname cases: the servers of `pg-cluster.ts` and `mariadb-server.ts` also listen on
 * 127.0.0.2, which the certificate does not name, so `verify-full` to 127.0.0.2 fails
 * the hostname check while the chain is valid.
 *
 * `makeCerts` is synchronous (a few openssl runs, ~100 ms) and idempotent per directory.
 * The caller owns the directory and removes it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CLIENT_CERT_USER = 'cistern_cert';

export interface Certs {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  pem: { ca: string; clientCert: string; clientKey: string; otherCa: string };
}

export interface MakeCertsOptions {
  /** OS user that must own the server key (`postgres`, `mysql`); default: the current user. */
  owner?: string;
  /** Days of validity; default 2. */
  days?: number;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyAndCsr(cwd: string, name: string, cn: string): void {
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ],
    cwd,
  );
}

function selfSigned(cwd: string, name: string, cn: string, days: number): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    cwd,
  );
}

function sign(cwd: string, name: string, ext: string, days: number): void {
  fs.writeFileSync(path.join(cwd, `${name}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ],
    cwd,
  );
}

function chownTo(file: string, owner: string | undefined): void {
  if (!owner || process.getuid?.() !== 0) return;
  execFileSync('chown', [owner, file]);
}

/** Make (or reuse) a CA, a server and a client certificate, and an unrelated CA, in `dir`. */
export function makeCerts(dir: string, options: MakeCertsOptions = {}): Certs {
  const days = options.days ?? 2;
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string) => path.join(dir, f);
  if (!fs.existsSync(p('done'))) {
    selfSigned(dir, 'ca', 'cistern test CA', days);
    selfSigned(dir, 'other-ca', 'cistern unrelated CA', days);
    keyAndCsr(dir, 'server', 'localhost');
    sign(dir, 'server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', days);
    keyAndCsr(dir, 'client', CLIENT_CERT_USER);
    sign(dir, 'client', 'extendedKeyUsage=clientAuth\n', days);
    for (const f of ['ca.key', 'other-ca.key', 'server.key', 'client.key']) fs.chmodSync(p(f), 0o600);
    for (const f of ['ca.crt', 'other-ca.crt', 'server.crt', 'client.crt']) fs.chmodSync(p(f), 0o644);
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(p('done'), '');
  }
  chownTo(p('server.key'), options.owner);
  chownTo(p('server.crt'), options.owner);
  const read = (f: string) => fs.readFileSync(p(f), 'utf8');
  return {
    dir,
    ca: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.crt'),
    pem: {
      ca: read('ca.crt'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      otherCa: read('other-ca.crt'),
    },
  };
}
