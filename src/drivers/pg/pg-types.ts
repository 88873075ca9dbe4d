/**
 * The slice of node-postgres (`pg`) this driver calls, declared here so that
 * importing `cistern/pg` needs no type package and loads no other driver
 * (kysely's postgres-dialect-config.ts does the same for its pg Pool).
 */

/** A result as pg returns it (`rows`, `rowCount`, `fields`, `command`, ...). */
export interface PgQueryResult<R = any> {
  rows: R[];
  rowCount: number | null;
  command: string;
  fields: { name: string; dataTypeID: number }[];
  [key: string]: unknown;
}

/** pg's query config object: `{ text, values, name, rowMode, types, ... }`. */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  name?: string;
  rowMode?: 'array';
  [key: string]: unknown;
}

/** Anything pg's `client.query` accepts as a first argument that runs itself (Cursor, QueryStream, COPY streams). */
export interface PgSubmittable {
  submit(connection: unknown): void;
  text?: string;
}

export type PgCallback<T = PgQueryResult> = (error: Error | null | undefined, result?: T) => void;

/** The methods and fields of `pg.Client` this driver uses. A custom `Client` must offer them. */
export interface PgClient {
  connect(callback: (error?: Error | null) => void): void;
  query(...args: unknown[]): any;
  end(callback?: (error?: Error) => void): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
  /** 'I' idle, 'T' in a transaction, 'E' in a failed transaction (pg >= 8.21; older pg: the driver reads ReadyForQuery itself); null before the first ReadyForQuery. */
  getTransactionStatus?(): string | null;
  ref?(): void;
  unref?(): void;
  /** Backend pid (BackendKeyData), set during connect. */
  processID?: number | null;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  connection?:
    | {
        stream?: { destroy(error?: Error): void; ref?(): unknown; unref?(): unknown; destroyed?: boolean };
        /** pg's protocol connection is an EventEmitter: the driver listens to its 'errorMessage'. */
        on?(event: string, listener: (...args: any[]) => void): unknown;
      }
    | undefined;
  /** pg's own "being ended" and "usable" flags (pg-pool reads them the same way). */
  _ending?: boolean;
  _queryable?: boolean;
  /** Set by the pg.Pool face on a checked-out client, as pg-pool does. */
  release?: (error?: Error | boolean) => void;
}

/** `pg.Client`, or any class built like it (`Client` option). */
export type PgClientConstructor = new (config: Record<string, unknown>) => PgClient;

/** The slice of the `pg` module this package loads. */
export interface PgModule {
  Client: PgClientConstructor;
  Pool: new (...args: any[]) => object;
}
