import type { Knex } from 'knex';

/** What is known when a call starts, before its one statement. */
export interface StartOfCall<TTenant = unknown> {
  readonly callSid: string;
  /** Null when the context is loaded outside a media stream. */
  readonly streamSid: string | null;
  /** Validated by the app's tenant schema: every read of the call is bound to it. */
  readonly tenantId: TTenant;
  /** The stream's custom parameters (strings; the stream token left out), e.g. a lead id for an outbound call. */
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * The app's start-of-call read: ONE statement that loads everything the call
 * will read (the app's JOIN), bound to the tenant. The layer runs it inside
 * `call.load_context` with a timeout, and freezes what `fromRow` makes of its
 * first row; the live call reads that, never the database.
 */
export interface CallContextSpec<TTenant = unknown, TContext = Record<string, unknown>> {
  /**
   * Builds the statement (not awaited here: the layer runs it). A Knex query
   * builder or raw. It must filter by `start.tenantId`: a row of another
   * tenant must never match.
   */
  query(knex: Knex, start: StartOfCall<TTenant>): Knex.QueryBuilder | Knex.Raw;
  /** The context, from the statement's first row. Default: the row as it is. Frozen by the layer. */
  fromRow?(row: Record<string, unknown>, start: StartOfCall<TTenant>): TContext;
}
