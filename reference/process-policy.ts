import type { Logger as PinoLogger } from 'pino';

export interface ProcessPolicyOptions {
  logger: PinoLogger;
  /** Drains the server (live calls get DRAIN_TIMEOUT_S, writes flushed or journaled). */
  drain: () => Promise<void>;
  /** Hard deadline for that drain after an uncaught exception; then exit 1 all the same. */
  drainDeadlineMs: number;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * What the serving process does with an error nobody owns:
 *
 * - **unhandledRejection**: logged (error level, with the stack) and kept
 *   serving. Every path of a call owns its promises (a failure ends that
 *   call only, 1011), so a rejection that reaches the process comes from
 *   code outside a call's state — an agent's fire-and-forget promise, a
 *   dependency's — and ending every live call for it would turn one bug
 *   into an outage.
 * - **uncaughtException**: the state is unknown (a throw left some object
 *   half-updated). Logged as fatal, the server drains (new calls refused,
 *   live calls end within DRAIN_TIMEOUT_S, every buffer flushed or
 *   journaled) and the process exits 1, so a supervisor restarts it and
 *   recovery replays what is journaled. A second one, or the deadline,
 *   exits 1 at once.
 *
 * Returns a function that uninstalls the handlers.
 */
export function installProcessPolicy(options: ProcessPolicyOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let fatal = false;
  const onRejection = (reason: unknown) => {
    options.logger.error({ err: reason }, 'unhandled promise rejection: logged, the server keeps serving');
  };
  const onException = (error: unknown) => {
    options.logger.fatal({ err: error }, 'uncaught exception: draining, then exiting 1');
    if (fatal) {
      exit(1);
      return;
    }
    fatal = true;
    const deadline = setTimeout(() => {
      options.logger.fatal({ deadline_ms: options.drainDeadlineMs }, 'drain after an uncaught exception took too long; exiting 1');
      exit(1);
    }, options.drainDeadlineMs);
    deadline.unref();
    options
      .drain()
      .catch((drainError: unknown) => options.logger.fatal({ err: drainError }, 'drain after an uncaught exception failed'))
      .finally(() => {
        clearTimeout(deadline);
        exit(1);
      });
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
