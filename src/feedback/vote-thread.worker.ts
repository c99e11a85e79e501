// The vote thread: a vote writer on its own database connection, taking votes from the app's thread and answering them.
import mongoose from 'mongoose';
import { parentPort, workerData } from 'node:worker_threads';
import { createRateGuards } from './abuse';
import { fromWireVote, toWireError, type FromVoteThread, type ToVoteThread, type VoteThreadData } from './vote-thread';
import { createVoteWriter, voteSinkOf, whenVotesWritten } from './vote-writer';

function send(message: FromVoteThread): void {
  parentPort?.postMessage(message);
}

async function main(): Promise<void> {
  const { uri, settings, deadlineMs } = workerData as VoteThreadData;
  mongoose.set('strictQuery', true);
  // The app's thread builds the indexes; this connection only writes votes.
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: false, autoCreate: false });
  const votes = voteSinkOf(
    createVoteWriter({
      guards: createRateGuards(settings),
      replaceWindowMs: settings.replaceWindowMinutes * 60_000,
      onError: (what, error) => send({ type: 'log', message: what, err: error instanceof Error ? error.message : String(error) }),
      ...(deadlineMs ? { deadlineMs } : {}),
    }),
  );

  // The outcomes settled in one turn of the event loop go back in one message.
  let outbox: Extract<FromVoteThread, { type: 'outcomes' }>['outcomes'] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (outbox.length === 0) return;
    send({ type: 'outcomes', outcomes: outbox });
    outbox = [];
  };
  const answer = (entry: (typeof outbox)[number]) => {
    outbox.push(entry);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  parentPort?.on('message', (message: ToVoteThread) => {
    if (message.type === 'votes') {
      for (const { id, vote } of message.votes) {
        votes.write(fromWireVote(vote)).then(
          (outcome) => answer({ id, outcome }),
          (error: unknown) => answer({ id, error: toWireError(error) }),
        );
      }
    } else if (message.type === 'drain') {
      void whenVotesWritten().then(() => {
        flush();
        send({ type: 'drained', id: message.id });
      });
    } else if (message.type === 'close') {
      void whenVotesWritten()
        .then(() => flush())
        .then(() => mongoose.disconnect())
        .finally(() => parentPort?.close());
    }
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  parentPort?.close();
});
