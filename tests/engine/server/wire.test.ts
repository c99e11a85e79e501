// Wire protocol over a raw socket: legacy handshake, OP_MSG sections and flags, and malformed input handling.
import net from 'node:net';
import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { startEngine, type RunningEngine } from '../../../src/engine';
import { crc32c } from '../../../src/engine/server/crc32c';

interface LogLine {
  level: string;
  o: object;
  m?: string;
}

let engine: RunningEngine;
const logs: LogLine[] = [];

beforeAll(async () => {
  engine = await startEngine({
    dataDir: null,
    maxMessageBytes: 1024 * 1024,
    logger: {
      info: (o, m) => logs.push({ level: 'info', o, m }),
      warn: (o, m) => logs.push({ level: 'warn', o, m }),
      error: (o, m) => logs.push({ level: 'error', o, m }),
    },
  });
});

afterAll(async () => {
  await engine.close();
});

function header(length: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opQuery(ns: string, doc: Document, requestId = 1): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 0]),
    Buffer.from(`${ns}\0`, 'utf8'),
    Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from(BSON.serialize(doc)),
  ]);
  return Buffer.concat([header(16 + body.length, requestId, 2004), body]);
}

function opMsg(body: Document, options: { flags?: number; sequences?: Array<[string, Document[]]>; checksum?: boolean } = {}, requestId = 7): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  for (const [name, docs] of options.sequences ?? []) {
    const payload = Buffer.concat([Buffer.from(`${name}\0`, 'utf8'), ...docs.map((d) => Buffer.from(BSON.serialize(d)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  let flags = options.flags ?? 0;
  if (options.checksum) flags |= 1;
  const flagBuf = Buffer.alloc(4);
  flagBuf.writeUInt32LE(flags >>> 0, 0);
  const content = Buffer.concat([flagBuf, ...parts]);
  const total = 16 + content.length + (options.checksum ? 4 : 0);
  const msg = Buffer.concat([header(total, requestId, 2013), content]);
  if (!options.checksum) return msg;
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32c(msg), 0);
  return Buffer.concat([msg, crc]);
}

/** Connects, writes bytes, collects what comes back until `count` replies arrived or the socket closed. */
function exchange(bytes: Buffer[], count: number, timeoutMs = 3000): Promise<{ replies: Buffer[]; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(engine.port, engine.host);
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const len = buf.readInt32LE(0);
        replies.push(buf.subarray(0, len));
        buf = buf.subarray(len);
      }
      if (replies.length >= count) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function msgBody(reply: Buffer): Document {
  expect(reply.readInt32LE(12)).toBe(2013);
  expect(reply[20]).toBe(0);
  return BSON.deserialize(reply.subarray(21));
}

async function pingStillWorks(): Promise<void> {
  const { replies } = await exchange([opMsg({ ping: 1, $db: 'admin' })], 1);
  expect(msgBody(replies[0])).toEqual({ ok: 1 });
}

test('when a legacy OP_QUERY isMaster arrives on admin.$cmd, then an OP_REPLY answers as a writable standalone', async () => {
  const { replies } = await exchange([opQuery('admin.$cmd', { isMaster: 1, helloOk: true })], 1);
  const reply = replies[0];
  expect(reply.readInt32LE(12)).toBe(1);
  expect(reply.readInt32LE(8)).toBe(1);
  expect(reply.readInt32LE(32)).toBe(1);
  const doc = BSON.deserialize(reply.subarray(36));
  expect(doc).toMatchObject({ ok: 1, ismaster: true, helloOk: true, maxWireVersion: 21, minWireVersion: 0, logicalSessionTimeoutMinutes: 30 });
  expect(doc.maxBsonObjectSize).toBe(16 * 1024 * 1024);
  expect(doc.maxMessageSizeBytes).toBe(48000000);
  expect(doc.maxWriteBatchSize).toBe(100000);
  expect(doc.localTime).toBeInstanceOf(Date);
  expect(doc.setName).toBeUndefined();
  expect(doc.topologyVersion).toBeUndefined();
});

test('when OP_MSG hello is sent, then it answers isWritablePrimary with a connection id', async () => {
  const { replies } = await exchange([opMsg({ hello: 1, $db: 'admin' })], 1);
  const doc = msgBody(replies[0]);
  expect(doc.isWritablePrimary).toBe(true);
  expect(typeof doc.connectionId).toBe('number');
  expect(replies[0].readInt32LE(8)).toBe(7);
});

test('when an OP_MSG carries a valid crc32c checksum, then it is accepted', async () => {
  const { replies } = await exchange([opMsg({ ping: 1, $db: 'admin' }, { checksum: true })], 1);
  expect(msgBody(replies[0])).toEqual({ ok: 1 });
});

test('when an OP_MSG checksum is wrong, then the connection is closed and logged', async () => {
  const msg = opMsg({ ping: 1, $db: 'admin' }, { checksum: true });
  msg[msg.length - 1] ^= 0xff;
  const { replies, closed } = await exchange([msg], 1);
  expect(replies).toHaveLength(0);
  expect(closed).toBe(true);
  expect(logs.some((l) => l.level === 'warn' && JSON.stringify(l.o).includes('checksum'))).toBe(true);
  await pingStillWorks();
});

test('when documents come in a kind-1 sequence, then the insert sees them and moreToCome suppresses the reply', async () => {
  const insert = opMsg(
    { insert: 'seq', $db: 'wire', ordered: true, writeConcern: { w: 0 } },
    { flags: 2, sequences: [['documents', [{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }]]] },
    10,
  );
  const find = opMsg({ find: 'seq', filter: {}, $db: 'wire' }, {}, 11);
  const { replies } = await exchange([insert, find], 1);
  expect(replies).toHaveLength(1);
  expect(replies[0].readInt32LE(8)).toBe(11);
  const doc = msgBody(replies[0]);
  expect(doc.cursor.firstBatch).toEqual([{ _id: 1, v: 'a' }, { _id: 2, v: 'b' }]);
});

test('when an OP_MSG has no $db, then it answers an error and keeps the connection', async () => {
  const { replies } = await exchange([opMsg({ ping: 1 }), opMsg({ ping: 1, $db: 'admin' }, {}, 8)], 2);
  expect(msgBody(replies[0])).toMatchObject({ ok: 0, code: 40571 });
  expect(msgBody(replies[1])).toEqual({ ok: 1 });
});

test.each([
  ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
  ['a length below the header size', (() => { const b = Buffer.alloc(16); b.writeInt32LE(8, 0); return b; })()],
  ['an oversized length', (() => { const b = header(2 * 1024 * 1024, 1, 2013); return b; })()],
  ['an unknown opCode', Buffer.concat([header(21, 1, 9999), Buffer.alloc(5)])],
  ['bad BSON in the body', Buffer.concat([header(16 + 4 + 1 + 5, 1, 2013), Buffer.alloc(4), Buffer.from([0]), Buffer.from([0x05, 0, 0, 0, 7])])],
  ['a BSON length pointing past the message', Buffer.concat([header(16 + 4 + 1 + 5, 1, 2013), Buffer.alloc(4), Buffer.from([0]), Buffer.from([0xff, 0, 0, 0, 0])])],
  ['an unknown section kind', Buffer.concat([header(16 + 4 + 1 + 5, 1, 2013), Buffer.alloc(4), Buffer.from([7]), Buffer.from([5, 0, 0, 0, 0])])],
  ['an OP_COMPRESSED message', Buffer.concat([header(25, 1, 2012), Buffer.alloc(9)])],
])('when a client sends %s, then that connection is closed and the server keeps answering', async (_label, bytes) => {
  const before = logs.length;
  const { closed } = await exchange([bytes], 1);
  expect(closed).toBe(true);
  expect(logs.slice(before).some((l) => l.level === 'warn')).toBe(true);
  await pingStillWorks();
});

test('when random bytes are thrown at the server many times, then it still serves the driver', async () => {
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; i < 30; i++) {
    const len = 16 + (rand() % 200);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = rand() & 0xff;
    b.writeInt32LE(len, 0);
    b.writeInt32LE(i % 2 === 0 ? 2013 : 2004, 12);
    await exchange([b], 1, 500);
  }
  const client = await new MongoClient(engine.uri).connect();
  try {
    await client.db('wire').collection('after').insertOne({ ok: true });
    expect(await client.db('wire').collection('after').countDocuments()).toBe(1);
  } finally {
    await client.close();
  }
});

test('when an unknown command is sent, then it answers code 59 CommandNotFound', async () => {
  const { replies } = await exchange([opMsg({ frobnicate: 1, $db: 'admin' })], 1);
  expect(msgBody(replies[0])).toMatchObject({ ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: "no such command: 'frobnicate'" });
});
