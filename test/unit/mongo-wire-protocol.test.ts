/** The test server's framing: what the MongoDB driver sends must decode whole, however the bytes arrive. */
import { deserialize, serialize } from 'bson';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeReply, FrameReader, OP_MSG, OP_QUERY } from '../support/mongo-wire-protocol.js';
import { MongoWireServer } from '../support/mongo-wire-server.js';

function opMsg(
  requestId: number,
  body: object,
  sequence?: { id: string; docs: object[] },
  flags = 0,
): Buffer {
  const parts = [Buffer.from([0]), serialize(body)];
  if (sequence) {
    const docs = Buffer.concat(sequence.docs.map((d) => serialize(d)));
    const id = Buffer.from(`${sequence.id}\0`);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + docs.length);
    parts.push(Buffer.from([1]), size, id, docs);
  }
  const payload = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeInt32LE(20 + payload.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(flags, 16);
  return Buffer.concat([header, payload]);
}

describe('mongo wire test server: framing', () => {
  it('reassembles frames split anywhere and several frames in one chunk', () => {
    const a = opMsg(1, { ping: 1, $db: 'admin' });
    const b = opMsg(2, { find: 'c', filter: { x: 1 }, $db: 'test' });
    const bytes = Buffer.concat([a, b]);
    for (const cut of [1, 3, 4, 17, a.length, a.length + 5]) {
      const reader = new FrameReader();
      const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(frames.map((f) => decodeRequest(f).command)).toEqual([
        { ping: 1, $db: 'admin' },
        { find: 'c', filter: { x: 1 }, $db: 'test' },
      ]);
    }
  });

  it('folds an OP_MSG document sequence into the command and reads moreToCome', () => {
    const request = decodeRequest(
      opMsg(7, { insert: 'c', $db: 'shop' }, { id: 'documents', docs: [{ a: 1 }, { a: 2 }] }, 2),
    );
    expect(request).toMatchObject({ requestId: 7, db: 'shop', moreToCome: true });
    expect(request.command.documents).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('answers OP_QUERY with OP_REPLY and OP_MSG with OP_MSG', () => {
    const reply = encodeReply(
      { requestId: 9, opCode: OP_QUERY, command: {}, db: 'admin', moreToCome: false },
      { ok: 1 },
    );
    expect(reply.readInt32LE(8)).toBe(9);
    expect(reply.readInt32LE(12)).toBe(1);
    expect(deserialize(reply.subarray(36))).toEqual({ ok: 1 });
    const msg = encodeReply(
      { requestId: 10, opCode: OP_MSG, command: {}, db: 'admin', moreToCome: false },
      { ok: 1 },
    );
    expect(msg.readInt32LE(12)).toBe(OP_MSG);
    expect(deserialize(msg.subarray(21))).toEqual({ ok: 1 });
  });

  it('mongodb 7.9 opens each socket with a legacy OP_QUERY isMaster, then speaks OP_MSG', async () => {
    const server = await MongoWireServer.start();
    const client = new MongoClient(server.url(), { directConnection: true, serverMonitoringMode: 'poll' });
    try {
      await client.db().command({ ping: 1 });
      const bySocket = new Map<number, number[]>();
      for (const c of server.commands)
        bySocket.set(c.connectionId, [...(bySocket.get(c.connectionId) ?? []), c.opCode]);
      expect(bySocket.size).toBe(2);
      for (const opCodes of bySocket.values()) {
        expect(opCodes[0]).toBe(OP_QUERY);
        expect(opCodes.slice(1).every((op) => op === OP_MSG)).toBe(true);
      }
      expect(server.commands[0].name).toBe('ismaster');
    } finally {
      await client.close();
      await server.close();
    }
  });
});
