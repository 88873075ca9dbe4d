/**
 * kysely `DatabaseConnection`s over one checked-out cistern connection, one class per
 * driver shape: postgres.js (`cistern/postgres`), pg (`cistern/pg`), mariadb
 * (`cistern/mariadb`). Queries go through the connection's public methods, so
 * telemetry sees them; a disconnect error is noted so the connection is invalidated
 * instead of returned.
 */
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';

type IsDisconnect = (error: unknown) => boolean;

export abstract class CisternConnection implements DatabaseConnection {
  /** The cistern connection this wraps. */
  readonly conn: any;
  /** A disconnect seen while checked out: release then invalidates. */
  failure: unknown;
  readonly #isDisconnect: IsDisconnect;

  constructor(conn: any, isDisconnect: IsDisconnect) {
    this.conn = conn;
    this.#isDisconnect = isDisconnect;
  }

  noteFailure(error: unknown): void {
    let dead = false;
    try {
      dead = this.#isDisconnect(error);
    } catch {}
    if (dead) this.failure = error;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.run<R>(compiled.sql, compiled.parameters);
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
      throw new TypeError(`CisternDialect: chunkSize must be a positive integer, got ${String(chunkSize)}`);
    }
    try {
      yield* this.stream<R>(compiled.sql, compiled.parameters, chunkSize);
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  /** Transaction control text (savepoints), no parameters. */
  async control(text: string): Promise<void> {
    await this.executeQuery({ sql: text, parameters: [] } as unknown as CompiledQuery);
  }

  protected abstract run<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>>;
  protected abstract stream<R>(
    sql: string,
    parameters: readonly unknown[],
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>>;
}

const AFFECTS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** `cistern/postgres`: `conn.query(text, params)` (the driver's prepare setting), cursors for streams. */
export class PostgresJsKyselyConnection extends CisternConnection {
  protected async run<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const result = await this.conn.query(sql, parameters);
    return {
      rows: result as R[],
      numAffectedRows: AFFECTS.has(result.command) ? BigInt(result.count) : undefined,
    };
  }

  protected async *stream<R>(
    sql: string,
    parameters: readonly unknown[],
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    for await (const rows of this.conn.sql.unsafe(sql, parameters).cursor(chunkSize)) yield { rows };
  }
}

/** `cistern/pg`: `conn.query(text, values)` returns pg's result; streams need pg-cursor. */
export class PgKyselyConnection extends CisternConnection {
  readonly #Cursor: (new (text: string, values: unknown[]) => any) | undefined;

  constructor(
    conn: any,
    isDisconnect: IsDisconnect,
    cursor: (new (text: string, values: unknown[]) => any) | undefined,
  ) {
    super(conn, isDisconnect);
    this.#Cursor = cursor;
  }

  protected async run<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const result = await this.conn.query(sql, parameters);
    return {
      rows: result.rows ?? [],
      numAffectedRows:
        AFFECTS.has(result.command) && result.rowCount != null ? BigInt(result.rowCount) : undefined,
    };
  }

  protected async *stream<R>(
    sql: string,
    parameters: readonly unknown[],
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    if (this.#Cursor === undefined) {
      throw new TypeError(
        'CisternDialect: streaming on a cistern/pg pool needs pg-cursor: new CisternDialect({ pool, cursor: Cursor })',
      );
    }
    const cursor = this.conn.query(new this.#Cursor(sql, [...parameters]));
    try {
      for (;;) {
        const rows: R[] = await cursor.read(chunkSize);
        if (rows.length === 0) break;
        yield { rows };
      }
    } finally {
      await cursor.close();
    }
  }
}

interface OkPacket {
  affectedRows?: number;
  insertId?: number | bigint;
}

/** `cistern/mariadb`: `conn.query(sql, values)`; streams on the connector's `queryStream`. */
export class MariadbKyselyConnection extends CisternConnection {
  protected async run<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const result = await this.conn.query(sql, parameters);
    if (Array.isArray(result)) return { rows: result as R[] };
    const ok = result as OkPacket;
    return {
      rows: [],
      insertId: ok.insertId != null && ok.insertId.toString() !== '0' ? BigInt(ok.insertId) : undefined,
      numAffectedRows: ok.affectedRows != null ? BigInt(ok.affectedRows) : undefined,
    };
  }

  /** The connector's `queryStream` (on `raw`: telemetry does not see streamed queries). */
  protected async *stream<R>(
    sql: string,
    parameters: readonly unknown[],
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    const stream = this.conn.raw.queryStream(sql, parameters);
    let rows: R[] = [];
    let done = false;
    try {
      for await (const row of stream) {
        rows.push(row as R);
        if (rows.length >= chunkSize) {
          yield { rows };
          rows = [];
        }
      }
      done = true;
      if (rows.length > 0) yield { rows };
    } finally {
      // leaving early: drop the remaining rows (the connector still reads them off the socket)
      if (!done) stream.close?.();
    }
  }
}
