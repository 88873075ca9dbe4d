import { MARIADB_URL } from '../../test/support/servers.js';

/** What the MariaDB benches connect with, read from MARIADB_URL (mysql2 takes the same keys). */
export interface MariadbConnectionConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

/** MARIADB_URL as connector options: host, port, user, password, database (defaults root@…:3306/test). */
export function mariadbConnection(url: string = MARIADB_URL): MariadbConnectionConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1) || 'test'),
  };
}
