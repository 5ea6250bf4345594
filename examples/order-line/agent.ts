import type { EnqueuedWrite } from '../../src/index.js';
import type { Agent, AgentCall, AgentSession } from '../../src/twilio/index.js';
import { tones } from '../../src/testing/index.js';
import type { MenuItem, OrderContext } from './context.js';
import type { OrderLineWrites } from './operations.js';

export type OrderLineCall = AgentCall<OrderContext, OrderLineWrites, string>;
export type OrderLineAgent = Agent<OrderContext, OrderLineWrites, string>;

export interface OrderLineAgentOptions {
  /** What the speech pipeline heard when the caller said their name (DTMF 0 stands for it). Default "Sam". */
  recognizeName?: (call: OrderLineCall) => string;
}

/** No TTS here: short chimes stand for the sentences; the marks say which. */
const PROMPTS = {
  greeting: tones([{ hz: 660, ms: 200 }, { hz: 990, ms: 300 }]),
  ok: tones([{ hz: 880, ms: 150 }]),
  done: tones([{ hz: 880, ms: 150 }, { hz: 1320, ms: 250 }]),
  sorry: tones([{ hz: 440, ms: 300 }, { hz: 330, ms: 300 }]),
};

/**
 * Takes a phone order by keypad: 1-9 add the menu item at that position,
 * `#` places the order, `*` asks for a call back, 0 gives the caller's name
 * (as a speech pipeline would hand it over). It reads only the frozen
 * context and writes only to the call's buffer; every answer is a mark
 * (`greeting`, `added-<sku>`, `order-placed`, `callback-requested`,
 * `name-noted`, `sorry-<why>`), `-volatile` appended when the journal could
 * not take the write.
 */
export function orderLineAgent(options: OrderLineAgentOptions = {}): OrderLineAgent {
  const recognizeName = options.recognizeName ?? (() => 'Sam');
  return {
    startCall(call: OrderLineCall): AgentSession {
      const context = call.context;
      const cart = new Map<string, { item: MenuItem; quantity: number }>();
      const say = (prompt: keyof typeof PROMPTS, mark: string): void => {
        call.sendAudio(PROMPTS[prompt]);
        call.mark(mark);
      };
      const confirm = (write: EnqueuedWrite, mark: string): void => say('done', write.journaled ? mark : `${mark}-volatile`);

      if (!context) {
        // The start-of-call load failed: no menu to order from, but a call back can be taken.
        say('sorry', 'sorry-unavailable');
      } else {
        const name = context.customer?.displayName;
        call.log.info({ shop: context.shop.name, known: context.customer !== null }, `greeting${name ? ` ${name}` : ''}`);
        say('greeting', 'greeting');
      }

      return {
        onDtmf(digit) {
          if (digit === '*') {
            confirm(call.writes.enqueue('requestCallback', { reason: 'asked for a call back' }), 'callback-requested');
            return;
          }
          if (!context) {
            say('sorry', 'sorry-unavailable');
            return;
          }
          if (digit === '#') {
            if (cart.size === 0) {
              say('sorry', 'sorry-empty-order');
              return;
            }
            const items = [...cart.values()].map(({ item, quantity }) => ({ sku: item.sku, name: item.name, quantity, priceCents: item.priceCents }));
            cart.clear();
            confirm(call.writes.enqueue('placeOrder', { items }), 'order-placed');
            return;
          }
          if (digit === '0') {
            if (!context.customer) {
              say('sorry', 'sorry-unknown-caller');
              return;
            }
            confirm(call.writes.enqueue('rememberName', { displayName: recognizeName(call) }), 'name-noted');
            return;
          }
          const item = context.menu.find((candidate) => String(candidate.position) === digit);
          if (!item) {
            say('sorry', 'sorry-no-such-item');
            return;
          }
          const line = cart.get(item.sku);
          cart.set(item.sku, { item, quantity: (line?.quantity ?? 0) + 1 });
          say('ok', `added-${item.sku}`);
        },
      };
    },
  };
}
