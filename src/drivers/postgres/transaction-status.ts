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
  /** A view of the ArrayBuffer the last chunk came from (`#viewOf`). */
  #view: DataView | undefined = undefined;
  #viewOf: ArrayBufferLike | undefined = undefined;
  /** The stream broke PostgreSQL's framing: nothing more is read until `restart()`. */
  #lost = false;

  /** A new socket: its first byte starts a message. */
  restart(): void {
    this.status = IDLE;
    this.#lost = false;
    this.#view = undefined;
    this.#viewOf = undefined;
    this.#skip = 0;
    this.#carry = undefined;
  }

  /** True when a transaction is (or may be) open: anything but a known idle status. */
  get inTransaction(): boolean {
    return this.status !== IDLE;
  }

  readonly onData = (data: Buffer): void => {
    if (this.#lost) return;
    let chunk = data;
    const skip = this.#skip;
    if (this.#carry !== undefined) {
      // a carried header: the chunk continues it (`#skip` is 0 then)
      chunk = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    const length = chunk.length;
    if (skip >= length) {
      this.#skip = skip - length;
      return;
    }
    // one DataView over the chunk's whole ArrayBuffer, kept while chunks come from it
    // (postgres.js 4 reads every chunk into one buffer of its own)
    let view = this.#view;
    if (chunk.buffer !== this.#viewOf) {
      this.#viewOf = chunk.buffer;
      view = this.#view = new DataView(chunk.buffer);
    }
    const base = chunk.byteOffset;
    const end = base + length;
    let pos = base + skip;
    let status = this.status;
    // a header and a ReadyForQuery status byte fit while pos <= last
    const last = end - 6;
    while (pos <= last) {
      if (view!.getUint8(pos) === READY_FOR_QUERY) status = view!.getUint8(pos + 5);
      const size = view!.getInt32(pos + 1);
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
      // too short to read a header and a ReadyForQuery status byte: keep it for the next chunk
      this.#carry = Buffer.from(chunk.subarray(pos - base));
      this.#skip = 0;
    } else {
      this.#skip = pos - end;
    }
  };
}
