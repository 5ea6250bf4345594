import { z } from 'zod';
import { defineWrite } from '../src/index.js';
import type { RealtimeTranscriptOptions } from '../src/realtime/index.js';

/** Longest text of one transcript entry kept. */
const MAX_ENTRY_TEXT = 8_000;

/** One entry of a Realtime call's conversation, as the receptionist keeps it (table call_transcripts). */
export const transcriptEntryWrite = defineWrite({
  schema: z.strictObject({
    position: z.number().int('must be an integer').positive('must be positive'),
    role: z.enum(['caller', 'assistant', 'tool', 'event']),
    text: z.string().max(MAX_ENTRY_TEXT, `must be at most ${MAX_ENTRY_TEXT} characters`),
    itemId: z.string().max(200).nullable(),
    toolName: z.string().max(64).nullable(),
    toolOk: z.boolean().nullable(),
    at: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' }),
  }),
  table: 'call_transcripts',
  kind: 'insert',
  tenantColumn: 'business_id',
  idempotencyColumn: 'idempotency_key',
  row: (entry, call) => ({
    call_sid: call.callSid,
    position: entry.position,
    role: entry.role,
    text: entry.text,
    item_id: entry.itemId,
    tool_name: entry.toolName,
    tool_ok: entry.toolOk,
    spoken_at: entry.at,
  }),
});

/** The Realtime agent's transcript option: each entry → one `transcriptEntry` write. */
export const receptionistTranscript: RealtimeTranscriptOptions<{ transcriptEntry: typeof transcriptEntryWrite }> = {
  operation: 'transcriptEntry',
  input: (entry) => ({
    position: entry.position,
    role: entry.role,
    text: entry.text.length > MAX_ENTRY_TEXT ? `${entry.text.slice(0, MAX_ENTRY_TEXT - 1)}…` : entry.text,
    itemId: entry.itemId?.slice(0, 200) ?? null,
    toolName: entry.tool?.name ?? null,
    toolOk: entry.tool?.ok ?? null,
    at: entry.at,
  }),
};
