/**
 * What cistern needs to know from a MongoDB connection string before connecting:
 * the first host (for the target), the database, the user (never the password),
 * and whether to default to `directConnection`. The driver itself parses the
 * string again when it connects; this never rejects what the driver accepts.
 */
import type { DriverTarget } from '../../pool/driver.js';

export interface MongoUrlInfo {
  srv: boolean;
  hosts: Array<{ host: string; port?: number }>;
  database?: string;
  user?: string;
  /** The decoded password, only to scrub it from error text. */
  password?: string;
  /** Query parameters, keys lower-cased. */
  params: Map<string, string>;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function parseMongoUrl(url: string): MongoUrlInfo {
  const match = /^(mongodb(?:\+srv)?):\/\/([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/i.exec(url.trim());
  if (!match) return { srv: false, hosts: [], params: new Map() };
  const [, scheme, authority, path, query] = match;
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
  }
  const hosts = hostList
    .split(',')
    .filter((h) => h.length > 0)
    .map((h) => {
      const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
      if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
      const colon = h.lastIndexOf(':');
      return colon >= 0 ? { host: h.slice(0, colon), port: Number(h.slice(colon + 1)) } : { host: h };
    });
  const params = new Map<string, string>();
  for (const pair of (query ?? '').split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq >= 0 ? pair.slice(0, eq) : pair).toLowerCase();
    params.set(key, decode(eq >= 0 ? pair.slice(eq + 1) : ''));
  }
  const database = path ? decode(path) : undefined;
  return {
    srv: scheme.toLowerCase() === 'mongodb+srv',
    hosts,
    database: database || undefined,
    user,
    password,
    params,
  };
}

/** The target for telemetry and pool names: first host, its port (27017 by default), the database ('test' by default). */
export function targetOf(info: MongoUrlInfo): DriverTarget {
  const first = info.hosts[0];
  return {
    system: 'mongodb',
    host: first?.host,
    port: first?.port ?? (info.srv || !first ? undefined : 27017),
    database: info.database ?? 'test',
    ...(info.user ? { user: info.user } : {}),
  };
}

/**
 * A single host with no replica set, SRV record or load balancer named: talk to
 * that host only (`directConnection`), so a client never discovers and monitors
 * other members behind the pool's back.
 */
export function wantsDirectConnection(
  info: MongoUrlInfo,
  options: { directConnection?: boolean; replicaSet?: string; loadBalanced?: boolean },
): boolean {
  if (info.srv || info.hosts.length !== 1) return false;
  if (options.directConnection !== undefined || options.replicaSet !== undefined || options.loadBalanced)
    return false;
  return !['directconnection', 'replicaset', 'loadbalanced'].some((key) => info.params.has(key));
}
