// Write concern: a write waits for its journal fsync unless it asks for `j: false`, as mongod's w:1 does.
import { MongoClient } from 'mongodb';
import type { JournalRecord } from '../../../src/engine/catalog/catalog';
import { Catalog } from '../../../src/engine/catalog/catalog';
import { CursorStore } from '../../../src/engine/catalog/cursors';
import { SessionRegistry } from '../../../src/engine/catalog/sessions';
import { WireServer } from '../../../src/engine/server/server';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** A journal whose fsyncs complete only when the test says so. */
function heldJournal() {
  const held: { records: JournalRecord[]; release: () => void }[] = [];
  return {
    held,
    commit(records: JournalRecord[]): Promise<void> {
      return new Promise((resolve) => held.push({ records, release: resolve }));
    },
  };
}

describe('write concern on the wire server', () => {
  let server: WireServer;
  let client: MongoClient;
  let journal: ReturnType<typeof heldJournal>;

  beforeEach(async () => {
    journal = heldJournal();
    server = new WireServer({
      catalog: new Catalog(),
      cursors: new CursorStore(),
      sessions: new SessionRegistry(),
      logger: silent,
      maxMessageBytes: 48_000_000,
      commit: (records) => journal.commit(records),
    });
    const { port } = await server.listen('127.0.0.1', 0);
    client = await new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { retryWrites: false }).connect();
  });

  afterEach(async () => {
    for (const entry of journal.held) entry.release();
    await client.close();
    await server.close();
  });

  test('when a write asks for j: false, then it is acknowledged before its records are journaled, and they are still handed to the journal', async () => {
    const events = client.db('wc').collection('events');
    const result = await events.insertOne({ _id: 'a' as never, n: 1 }, { writeConcern: { w: 1, j: false } });
    expect(result.acknowledged).toBe(true);
    expect(journal.held).toHaveLength(1);
    expect(journal.held[0]?.records.map((record) => record.t)).toEqual(['create', 'insert']);
    expect(await events.findOne({ _id: 'a' as never })).toEqual({ _id: 'a', n: 1 });
  });

  test('when a write asks for nothing or for j: true, then it is acknowledged only once its records are journaled', async () => {
    const events = client.db('wc').collection('events');
    for (const [index, options] of [{}, { writeConcern: { j: true } }].entries()) {
      let acknowledged = false;
      const insert = events.insertOne({ n: index }, options).then(() => {
        acknowledged = true;
      });
      // Applied (a read sees it) while its fsync is held.
      while (journal.held.length === index) await new Promise((resolve) => setImmediate(resolve));
      expect(await events.countDocuments({ n: index })).toBe(1);
      expect(acknowledged).toBe(false);
      journal.held[index]?.release();
      await insert;
      expect(acknowledged).toBe(true);
    }
  });
});
