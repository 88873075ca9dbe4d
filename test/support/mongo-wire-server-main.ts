/**
 * Run the MongoDB wire-protocol test server in a process of its own (for the
 * benchmark, so the server's work does not share the measured event loop).
 * Prints `{"port":N}` on one line once listening; exits when stdin closes.
 */
import { MongoWireServer } from './mongo-wire-server.js';

const server = await MongoWireServer.start();
process.stdout.write(`${JSON.stringify({ port: server.address.port })}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
