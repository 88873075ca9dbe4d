/**
 * The test server's in-memory data: one array of documents per database and
 * collection, with the small query and update language the tests use:
 * equality (including on `_id`, nested objects and dotted paths), `$eq`, `$ne`,
 * `$in`, `$gt(e)`, `$lt(e)`, `$exists`; updates `$set`, `$unset`, `$inc` or a
 * replacement document.
 */
import { type Document, deserialize, EJSON, ObjectId, serialize } from 'bson';

/** A deep copy that keeps BSON types (ObjectId, Long, ...), unlike structuredClone. */
export function cloneDocument<T extends Document>(doc: T): T {
  return deserialize(serialize(doc)) as T;
}

function canonical(value: unknown): string {
  return EJSON.stringify(value as Document, { relaxed: false });
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  // scalars compare as JavaScript values (an int and a double of the same value are equal, as in MongoDB)
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonical({ v: a }) === canonical({ v: b });
}

function getPath(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Document)[part];
  }
  return current;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    if (current[part] === null || typeof current[part] !== 'object') current[part] = {};
    current = current[part] as Document;
  }
  current[parts[parts.length - 1]] = value;
}

function unsetPath(doc: Document, path: string): void {
  const parts = path.split('.');
  const parent = parts.length === 1 ? doc : getPath(doc, parts.slice(0, -1).join('.'));
  if (parent !== null && typeof parent === 'object') delete (parent as Document)[parts[parts.length - 1]];
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  return undefined;
}

function isOperatorObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function matchValue(actual: unknown, condition: unknown): boolean {
  if (isOperatorObject(condition)) {
    return Object.entries(condition).every(([op, operand]) => {
      switch (op) {
        case '$eq':
          return matchValue(actual, operand);
        case '$ne':
          return !matchValue(actual, operand);
        case '$in':
          return (operand as unknown[]).some((v) => matchValue(actual, v));
        case '$nin':
          return !(operand as unknown[]).some((v) => matchValue(actual, v));
        case '$exists':
          return (actual !== undefined) === Boolean(operand);
        case '$gt':
          return (compare(actual, operand) ?? Number.NaN) > 0;
        case '$gte':
          return (compare(actual, operand) ?? Number.NaN) >= 0;
        case '$lt':
          return (compare(actual, operand) ?? Number.NaN) < 0;
        case '$lte':
          return (compare(actual, operand) ?? Number.NaN) <= 0;
        default:
          throw Object.assign(new Error(`unknown operator ${op}`), { code: 2 });
      }
    });
  }
  if (Array.isArray(actual) && !Array.isArray(condition))
    return actual.some((v) => valuesEqual(v, condition));
  if (condition === null) return actual === null || actual === undefined;
  return valuesEqual(actual, condition);
}

export function matches(doc: Document, filter: Document | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return (condition as Document[]).every((f) => matches(doc, f));
    if (key === '$or') return (condition as Document[]).some((f) => matches(doc, f));
    return matchValue(getPath(doc, key), condition);
  });
}

/** Apply an update document (operators or replacement) to a copy of `doc`. */
export function applyUpdate(doc: Document, update: Document): Document {
  const keys = Object.keys(update);
  if (keys.length === 0 || !keys[0].startsWith('$')) return { _id: doc._id, ...update };
  const next = cloneDocument(doc);
  next._id = doc._id;
  for (const [op, fields] of Object.entries(update)) {
    for (const [path, value] of Object.entries(fields as Document)) {
      if (op === '$set') setPath(next, path, value);
      else if (op === '$unset') unsetPath(next, path);
      else if (op === '$inc') setPath(next, path, ((getPath(next, path) as number) ?? 0) + (value as number));
      else throw Object.assign(new Error(`unknown update operator ${op}`), { code: 9 });
    }
  }
  return next;
}

/** Documents of every database and collection. */
export class MemoryStore {
  private readonly dbs = new Map<string, Map<string, Document[]>>();

  collection(db: string, name: string): Document[] {
    let collections = this.dbs.get(db);
    if (!collections) this.dbs.set(db, (collections = new Map()));
    let docs = collections.get(name);
    if (!docs) collections.set(name, (docs = []));
    return docs;
  }

  drop(db: string, name: string): boolean {
    return this.dbs.get(db)?.delete(name) ?? false;
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  clear(): void {
    this.dbs.clear();
  }

  /** Insert one document; returns false on a duplicate `_id`. */
  insert(db: string, name: string, doc: Document): boolean {
    const docs = this.collection(db, name);
    if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
    if (docs.some((d) => valuesEqual(d._id, doc._id))) return false;
    docs.push(doc);
    return true;
  }
}
