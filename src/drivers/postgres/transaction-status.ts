/**
 * Follows the transaction status PostgreSQL reports in every ReadyForQuery
 * message ('I' idle, 'T' in a transaction, 'E' in a failed transaction), by
 * reading the message framing of the bytes the socket receives. postgres.js does
 * not expose that byte, and knowing it lets `reset` skip the ROLLBACK round trip
 * when no transaction is open — which is nearly every check-in.
 *
 * Cost: one jump per protocol message (not per byte); a message split across two
 * chunks is handled by carrying at most 5 header bytes over. The walk is written for
 * V8: a DataView over the chunk's ArrayBuffer, made once per buffer (postgres.js 4 reads
 * every chunk into the same one), reads the type and the length in two loads; each
 * index into a Buffer costs a bounds check and a data-pointer computation of its own,
 * and `readUInt32BE` returns a double. A 100-row result (104 messages) took ~8,000
 * instructions per chunk in this walk with `readUInt32BE`, ~3,500 now (callgrind: bench/pg-instructions.sh).
 *
 * Two ways in: `onData` takes a chunk (a 'data' event: postgres.js 3, TLS), `onRead` the
 * read buffer of a shared socket (postgres.js 4) and the count of bytes read into it.
 * `onRead` keeps its DataView by the identity of that buffer, which is the same object on
 * every read: `chunk.buffer`, which `onData` must compare, is a call into V8's C++
 * (`TypedArrayPrototypeBuffer`, ~100 instructions a chunk, callgrind 2026-12-08).
 */

const READY_FOR_QUERY = 90; // 'Z'
export const IDLE = 73; // 'I'
/** A status no ReadyForQuery carries: the stream could not be followed. */
const UNKNOWN = 0;

export class TransactionStatus {
  /** Last status byte seen: 73 'I', 84 'T', 69 'E'. */
  status = IDLE;
  /** Bytes of the current message still to come in later chunks. */
  #skip = 0;
  /** A message header (type + length + maybe the status byte) cut at the end of the previous chunk. */
  #carry: Buffer | undefined;
  /** A view of the ArrayBuffer the last `onData` chunk came from (`#viewOf`). */
  #view: DataView | undefined = undefined;
  #viewOf: ArrayBufferLike | undefined = undefined;
  /** A view of the last read buffer `onRead` was given (`#readViewOf`). */
  #readView: DataView | undefined = undefined;
  #readViewOf: Uint8Array | undefined = undefined;
  /** The stream broke PostgreSQL's framing: nothing more is read until `restart()`. */
  #lost = false;

  /** A new socket: its first byte starts a message. */
  restart(): void {
    this.status = IDLE;
    this.#lost = false;
    this.#view = undefined;
    this.#viewOf = undefined;
    this.#readView = undefined;
    this.#readViewOf = undefined;
    this.#skip = 0;
    this.#carry = undefined;
  }

  /** True when a transaction is (or may be) open: anything but a known idle status. */
  get inTransaction(): boolean {
    return this.status !== IDLE;
  }

  /** The next chunk of the stream. */
  readonly onData = (data: Buffer): void => {
    if (this.#lost) return;
    let chunk = data;
    if (this.#carry !== undefined) {
      // a carried header: the chunk continues it (`#skip` is 0 then)
      chunk = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    const length = chunk.length;
    const skip = this.#skip;
    if (skip >= length) {
      this.#skip = skip - length;
      return;
    }
    // one DataView over the chunk's whole ArrayBuffer, kept while chunks come from it
    let view = this.#view;
    if (chunk.buffer !== this.#viewOf) {
      this.#viewOf = chunk.buffer;
      view = this.#view = new DataView(chunk.buffer);
    }
    const base = chunk.byteOffset;
    this.#walk(view!, base + skip, base + length);
  };

  /** The next `n` bytes of the stream, at the start of `buffer` (a shared socket's read buffer). */
  onRead(buffer: Uint8Array, n: number): void {
    if (this.#lost) return;
    if (this.#carry !== undefined) {
      this.onData(Buffer.from(buffer.buffer, buffer.byteOffset, n));
      return;
    }
    const skip = this.#skip;
    if (skip >= n) {
      this.#skip = skip - n;
      return;
    }
    let view = this.#readView;
    if (buffer !== this.#readViewOf) {
      this.#readViewOf = buffer;
      view = this.#readView = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    this.#walk(view!, skip, n);
  }

  /** Walk the messages of `view` from `pos` (a message start) to `end`. */
  #walk(view: DataView, start: number, end: number): void {
    let pos = start;
    let status = this.status;
    // a header and a ReadyForQuery status byte fit while pos <= last
    const last = end - 6;
    while (pos <= last) {
      if (view.getUint8(pos) === READY_FOR_QUERY) status = view.getUint8(pos + 5);
      const size = view.getInt32(pos + 1);
      if (size < 4) {
        // not PostgreSQL's framing (a length counts itself): the status is unknown from here
        // on, so every reset rolls back; postgres.js fails the connection on such a stream
        this.status = UNKNOWN;
        this.#lost = true;
        return;
      }
      pos += 1 + size;
    }
    this.status = status;
    if (pos < end) {
      // too short to read a header and a ReadyForQuery status byte: keep a copy for the next chunk
      this.#carry = Buffer.from(new Uint8Array(view.buffer, view.byteOffset + pos, end - pos));
      this.#skip = 0;
    } else {
      this.#skip = pos - end;
    }
  }
}
