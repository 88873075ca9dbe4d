/**
 * MongoDB wire protocol framing for the test server: read OP_MSG (2013) and the
 * legacy OP_QUERY (2004) the driver still sends for its very first handshake, and
 * write OP_MSG / OP_REPLY (1) answers. Spec:
 * https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 */
import { type Document, deserialize, serialize } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const CHECKSUM_PRESENT = 1;
const MORE_TO_COME = 2;

/** One request as the server sees it. */
export interface WireRequest {
  requestId: number;
  opCode: number;
  /** The command document, with any OP_MSG document sequence folded in as an array field. */
  command: Document;
  /** Database the command targets (`$db`, or the OP_QUERY namespace's database). */
  db: string;
  /** OP_MSG moreToCome: the client expects no reply. */
  moreToCome: boolean;
}

/** Splits a byte stream into whole messages; feed it chunks, it yields complete frames. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readInt32LE(0);
      if (this.buffered.length < length) break;
      frames.push(this.buffered.subarray(0, length));
      this.buffered = this.buffered.subarray(length);
    }
    return frames;
  }
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  return [buf.toString('utf8', offset, end), end + 1];
}

/** Decode one frame; throws on an opcode the test server does not speak (OP_COMPRESSED is never negotiated). */
export function decodeRequest(frame: Buffer): WireRequest {
  const requestId = frame.readInt32LE(4);
  const opCode = frame.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = frame.readUInt32LE(16);
    const end = flags & CHECKSUM_PRESENT ? frame.length - 4 : frame.length;
    let offset = 20;
    let command: Document = {};
    const sequences: Array<[string, Document[]]> = [];
    while (offset < end) {
      const kind = frame[offset];
      offset += 1;
      if (kind === 0) {
        const size = frame.readInt32LE(offset);
        command = deserialize(frame.subarray(offset, offset + size));
        offset += size;
      } else {
        const size = frame.readInt32LE(offset);
        const sectionEnd = offset + size;
        const [identifier, docsStart] = readCString(frame, offset + 4);
        const docs: Document[] = [];
        let at = docsStart;
        while (at < sectionEnd) {
          const docSize = frame.readInt32LE(at);
          docs.push(deserialize(frame.subarray(at, at + docSize)));
          at += docSize;
        }
        sequences.push([identifier, docs]);
        offset = sectionEnd;
      }
    }
    for (const [identifier, docs] of sequences) command[identifier] = docs;
    return {
      requestId,
      opCode,
      command,
      db: String(command.$db ?? 'admin'),
      moreToCome: (flags & MORE_TO_COME) !== 0,
    };
  }
  if (opCode === OP_QUERY) {
    const [namespace, afterName] = readCString(frame, 20);
    const queryStart = afterName + 8; // numberToSkip, numberToReturn
    const size = frame.readInt32LE(queryStart);
    let command = deserialize(frame.subarray(queryStart, queryStart + size));
    if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
    return { requestId, opCode, command, db: namespace.split('.')[0], moreToCome: false };
  }
  throw new Error(`mongo test server: unsupported opcode ${opCode}`);
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

let nextResponseId = 1;

/** Encode the reply to `request` in the format it arrived in (OP_MSG, or OP_REPLY for OP_QUERY). */
export function encodeReply(request: WireRequest, reply: Document): Buffer {
  const body = serialize(reply);
  const responseId = nextResponseId++;
  if (request.opCode === OP_QUERY) {
    const prefix = Buffer.alloc(20);
    prefix.writeInt32LE(0, 0); // responseFlags
    prefix.writeBigInt64LE(0n, 4); // cursorID
    prefix.writeInt32LE(0, 12); // startingFrom
    prefix.writeInt32LE(1, 16); // numberReturned
    const length = 16 + prefix.length + body.length;
    return Buffer.concat([header(length, responseId, request.requestId, OP_REPLY), prefix, body]);
  }
  const flagsAndKind = Buffer.alloc(5);
  flagsAndKind.writeUInt32LE(0, 0);
  flagsAndKind[4] = 0;
  const length = 16 + flagsAndKind.length + body.length;
  return Buffer.concat([header(length, responseId, request.requestId, OP_MSG), flagsAndKind, body]);
}
