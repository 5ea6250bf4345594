import { JetStreamJournal, Journal, type JournalBackend, type Logger } from '../src/index.js';
import type { Config } from './config.js';

/**
 * The write journal the config names: JetStream when `JOURNAL_URL` is set
 * (the start is refused, the masked URL named, when NATS is unreachable or
 * cannot make the stream), else the local directory (probed: a directory
 * that cannot keep writes refuses the start too).
 */
export async function openJournal(config: Config, logger: Logger): Promise<JournalBackend> {
  if (config.journal) {
    const journal = await JetStreamJournal.connect({ url: config.journal.url, replicas: config.journal.replicas, logger });
    logger.info({ url: journal.url, stream: journal.stream, replicas: journal.replicas, instance: journal.instanceId }, 'the write journal is on JetStream');
    return journal;
  }
  const journal = new Journal({ dir: config.journalDir, fsync: config.journalFsync, logger });
  journal.probe();
  return journal;
}
