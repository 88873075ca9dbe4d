import type {
  ClientSession,
  Collection,
  CollectionOptions,
  Db,
  DbOptions,
  Document,
  MongoClient,
} from 'mongodb';

/** One pooled MongoDB connection: a MongoClient of its own holding exactly one connection. */
export interface MongoConnection {
  /** The MongoClient behind this pooled connection (maxPoolSize 1). Do not close it yourself. */
  readonly raw: MongoClient;
  /**
   * Inside `pool.transaction`: the session of the transaction. Pass it to every
   * operation that belongs to the transaction (`{ session: tx.session }`).
   * Undefined outside a transaction.
   */
  readonly session: ClientSession | undefined;
  /** A database; the connection string's database (or 'test') by default. */
  db(name?: string, options?: DbOptions): Db;
  /** A collection of the default database. */
  collection<T extends Document = Document>(name: string, options?: CollectionOptions): Collection<T>;
}

export class ClientConnection implements MongoConnection {
  #defaultDb: Db | undefined;

  constructor(
    readonly raw: MongoClient,
    readonly session: ClientSession | undefined = undefined,
  ) {}

  db(name?: string, options?: DbOptions): Db {
    if (name === undefined && options === undefined) return (this.#defaultDb ??= this.raw.db());
    return this.raw.db(name, options);
  }

  collection<T extends Document = Document>(name: string, options?: CollectionOptions): Collection<T> {
    return this.db().collection<T>(name, options);
  }

  /** The same client, bound to a transaction's session. */
  withSession(session: ClientSession): ClientConnection {
    return new ClientConnection(this.raw, session);
  }
}
