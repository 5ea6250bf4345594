import { z } from 'zod';
import { defineWrite, type JsonValue } from '../../src/index.js';

const phone = z.string().regex(/^\+?[0-9 ()-]{3,32}$/, 'must be a phone number');

const orderLine = z.strictObject({
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(50),
  priceCents: z.number().int().positive(),
});

/** A value the app bound at call start (see app.ts `bindings`). */
function bound(bindings: Readonly<Record<string, JsonValue>>, name: 'customerId' | 'caller'): string | null {
  const value = bindings[name];
  return typeof value === 'string' ? value : null;
}

/**
 * The order line's writes. None names `shop_id`: the layer sets it to the
 * call's shop on every row and checks it on every update.
 */
export const orderLineWrites = {
  /** An order, inserted once (its idempotency key is `<streamSid>:<seq>`). */
  placeOrder: defineWrite({
    schema: z.strictObject({ items: z.array(orderLine).min(1, 'an order needs at least one item').max(50) }),
    table: 'order_line.orders',
    kind: 'insert',
    tenantColumn: 'shop_id',
    idempotencyColumn: 'idempotency_key',
    row: ({ items }, call) => ({
      call_sid: call.callSid,
      customer_id: bound(call.bindings, 'customerId'),
      items,
      total_cents: items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0),
    }),
  }),
  /**
   * The caller wants a call back: one request per call (a second one
   * replaces the first). Keyed within the tenant, on the unique index
   * (shop_id, call_sid): the layer sets shop_id, the start check finds the index.
   */
  requestCallback: defineWrite({
    schema: z.strictObject({ reason: z.string().min(1).max(500), phone: phone.optional() }),
    table: 'order_line.callback_requests',
    kind: 'upsert',
    key: ['shop_id', 'call_sid'],
    tenantColumn: 'shop_id',
    merge: { phone: 'keep' },
    row: ({ reason, phone: given }, call) => ({
      call_sid: call.callSid,
      phone: given ?? bound(call.bindings, 'caller'),
      reason,
    }),
  }),
  /** The name the caller gave, on their customer row (the one the context found). */
  rememberName: defineWrite({
    schema: z.strictObject({ displayName: z.string().trim().min(1).max(200) }),
    table: 'order_line.customers',
    kind: 'update',
    key: ['id'],
    tenantColumn: 'shop_id',
    row: ({ displayName }, call) => {
      const customerId = bound(call.bindings, 'customerId');
      if (customerId === null) throw new Error('the caller is not a known customer (customerId)');
      return { id: customerId, display_name: displayName };
    },
  }),
};

export type OrderLineWrites = typeof orderLineWrites;
