/**
 * Follows the transaction status PostgreSQL reports in every ReadyForQuery
 * message ('I' idle, 'T' in a transaction, 'E' in a failed transaction), by
 * reading the message framing of the bytes the socket receives. postgres.js does
 * not expose that byte, and knowing it lets `reset` skip the ROLLBACK round trip
 * when no transaction is open — which is nearly every check-in.
 *
 * Cost: one jump per protocol message (not per byte); a message split across two
 * chunks is handled by carrying at most 5 header bytes over.
 */

const READY_FOR_QUERY = 90; // 'Z'
export const IDLE = 73; // 'I'

export class TransactionStatus {
  /** Last status byte seen: 73 'I', 84 'T', 69 'E'. */
  status = IDLE;
  /** Bytes of the current message still to come in later chunks. */
  #skip = 0;
  /** A message header (type + length + maybe the status byte) cut at the end of the previous chunk. */
  #carry: Buffer | undefined;

  /** A new socket: its first byte starts a message. */
  restart(): void {
    this.status = IDLE;
    this.#skip = 0;
    this.#carry = undefined;
  }

  /** True when a transaction is (or may be) open: anything but a known idle status. */
  get inTransaction(): boolean {
    return this.status !== IDLE;
  }

  readonly onData = (data: Buffer): void => {
    let chunk = data;
    let pos = 0;
    if (this.#skip > 0) {
      if (this.#skip >= chunk.length) {
        this.#skip -= chunk.length;
        return;
      }
      pos = this.#skip;
      this.#skip = 0;
    } else if (this.#carry !== undefined) {
      chunk = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    const length = chunk.length;
    while (pos < length) {
      if (length - pos < 6) {
        // too short to read a header and a ReadyForQuery status byte: keep it for the next chunk
        this.#carry = Buffer.from(chunk.subarray(pos));
        return;
      }
      if (chunk[pos] === READY_FOR_QUERY) this.status = chunk[pos + 5]!;
      pos += 1 + chunk.readUInt32BE(pos + 1);
    }
    this.#skip = pos - length;
  };
}
