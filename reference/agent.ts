import type { EnqueuedWrite } from '../src/index.js';
import type { Agent, AgentCall, AgentSession } from '../src/twilio/index.js';
import { tones } from '../src/testing/index.js';
import type { CallContext } from './call-context.js';
import { nextFreeSlot, type Slot } from './opening-hours.js';
import { SlotHolds } from './slot-holds.js';
import type { ReceptionistWrites } from './operations.js';
import { VoiceActivityDetector } from './voice-activity.js';

/** The receptionist's calls: its context, its writes, businesses as tenants. */
export type ReceptionistCall = AgentCall<CallContext, ReceptionistWrites, number>;
export type ReceptionistAgent = Agent<CallContext, ReceptionistWrites, number>;

export interface ReceptionistOptions {
  /**
   * What the speech pipeline heard when the caller said their name (DTMF 3
   * stands for "the caller said their name"). Default: "Alex Rivera".
   */
  recognizeName?: (call: ReceptionistCall) => string;
  /** The clock (tests). Default `Date.now`. */
  now?: () => number;
  /** Slots held by this process's live calls. Default: one table for this agent's calls. */
  holds?: SlotHolds;
}

/** Audible prompts: no TTS here, so short chimes stand for spoken sentences. */
const PROMPTS = {
  greeting: tones([{ hz: 660, ms: 300 }, { hz: 880, ms: 300 }, { hz: 0, ms: 100 }, { hz: 990, ms: 400 }]),
  confirm: tones([{ hz: 880, ms: 200 }, { hz: 1320, ms: 300 }]),
  sorry: tones([{ hz: 440, ms: 400 }, { hz: 330, ms: 400 }]),
};

/**
 * The demo receptionist: greets the caller by the cached first name; DTMF 1
 * books the next free slot from the cached opening hours (not one booked
 * when the call started, nor one another call of this process holds) and
 * says "you're booked, we'll text you to confirm" — a promise it can keep:
 * if another process's call took the slot first, the flush records the
 * booking as a conflict and creates a callback task, so the business calls
 * back (see receptionistWrites.createAppointment.onConflict); 2 records a
 * callback request, 3 records the caller's name as a speech pipeline would
 * hand it over; a caller speaking over a prompt clears playback (barge-in).
 * Everything it reads is the frozen context; everything it writes is buffered.
 */
export function receptionistAgent(options: ReceptionistOptions = {}): ReceptionistAgent {
  const now = options.now ?? Date.now;
  const recognizeName = options.recognizeName ?? (() => 'Alex Rivera');
  const holds = options.holds ?? new SlotHolds();
  return {
    startCall(call: ReceptionistCall): AgentSession {
      const startedAt = now();
      const booked: Slot[] = [];
      const vad = new VoiceActivityDetector();
      let playing = false;
      let bargeIns = 0;

      /**
       * The answering mark after a write, said once the write is durable (at
       * once with the local journal; on JetStream's acknowledgement), off the
       * frame path: `booked`/`noted`, with `-volatile` when it cannot be
       * durable (it lands at call end, but a crash before then would lose
       * it). The caller hears the same confirmation: the booking stands
       * unless the process dies mid-call.
       */
      const confirm = (write: EnqueuedWrite, mark: 'booked' | 'noted'): void => {
        write.durable.then(
          (durable) => say('confirm', durable ? mark : `${mark}-volatile`),
          (error: unknown) => call.log.warn({ err: error }, 'confirming a write failed'),
        );
      };
      const say = (prompt: keyof typeof PROMPTS, mark: string): void => {
        call.sendAudio(PROMPTS[prompt]);
        call.mark(mark);
        playing = true;
      };

      const context = call.context;
      const name = context?.firstName;
      const business = context?.business.name ?? 'us';
      const greeting =
        call.direction === 'outbound'
          ? `Hi${name ? ` ${name}` : ''}, this is ${business} calling.`
          : `Hello${name ? ` ${name}` : ''}, ${context?.settings?.greeting ?? `thank you for calling ${business}.`}`;
      call.writes.enqueue('updateSession', { state: { greeting, direction: call.direction } });
      say('greeting', 'greeting');
      call.log.info({ greeting }, 'greeted the caller');

      return {
        onMedia(frame) {
          if (vad.push(frame) && playing) {
            call.clear();
            playing = false;
            bargeIns += 1;
          }
        },
        onMark(markName) {
          if (/^(greeting|booked|noted|sorry)/.test(markName)) playing = false;
        },
        onDtmf(digit) {
          switch (digit) {
            case '1': {
              const settings = context?.settings;
              // Taken: booked when the call started, held by this process's other calls, booked in this call.
              const taken = [...(context?.bookedSlots ?? []), ...holds.held(call.tenantId), ...booked];
              const slot = settings ? nextFreeSlot(settings.openingHours, settings.timezone, new Date(now() + 60 * 60_000), taken) : null;
              if (!slot || !holds.hold(call.tenantId, slot, call.callSid)) {
                say('sorry', 'sorry');
                return;
              }
              booked.push(slot);
              confirm(call.writes.enqueue('createAppointment', { ...slot, title: `Appointment for ${name ?? 'caller'}` }), 'booked');
              return;
            }
            case '2':
              confirm(call.writes.enqueue('updateSession', { state: { callbackRequested: true, callbackRequestedAt: new Date(now()).toISOString() } }), 'noted');
              return;
            case '3': {
              const heard = recognizeName(call);
              confirm(
                context?.lead
                  ? call.writes.enqueue('updateLead', { fields: { customerName: heard } })
                  : call.writes.enqueue('updateSession', { state: { callerName: heard } }),
                'noted',
              );
              return;
            }
            default:
              return;
          }
        },
        onStop() {
          call.writes.enqueue('updateSession', { state: { bargeIns }, summary: `${booked.length} appointment(s) booked` });
          call.writes.enqueue('callOutcome', { status: 'completed', durationSeconds: Math.round((now() - startedAt) / 1000) });
        },
      };
    },
  };
}
