import type { AgentSession } from '../src/twilio/index.js';
import type { ReceptionistAgent } from './agent.js';

/**
 * The layer with nothing on top: greets with a `greeting` mark, answers each
 * DTMF with a `noted` mark, does nothing per frame and buffers no write —
 * exactly what the capacity bench's bare ws floor does, so that the two
 * measure the layer's own cost per call (`serve --agent marks`).
 */
export function marksAgent(): ReceptionistAgent {
  return {
    startCall(call): AgentSession {
      call.mark('greeting');
      return { onDtmf: () => call.mark('noted') };
    },
  };
}
