import { z } from 'zod';
import { defineCallApp } from '../../src/index.js';
import { callerOf, orderContext, type OrderContext } from './context.js';
import { ORDER_LINE_SCHEMA } from './migrations.js';
import { orderLineWrites } from './operations.js';

/**
 * The order line, declared to the layer: the tenant is the shop (a UUID in
 * the stream parameter `shop_id`), the start-of-call statement loads the
 * shop, its menu and the caller, the writes are its three operations.
 * Rows may use the customer the context found and the caller's number.
 */
export const orderLineApp = defineCallApp({
  tenantParameter: 'shop_id',
  tenant: z.string().uuid(),
  parameters: z
    .object({ caller: z.string().regex(/^\+?[0-9 ()-]{3,32}$/, 'caller must be a phone number').optional() })
    .catchall(z.string()),
  context: orderContext,
  writes: orderLineWrites,
  /** The layer's table lives in the order line's schema (see migrateOrderLine). */
  schema: ORDER_LINE_SCHEMA,
  bindings: (context: OrderContext | null, start) => ({
    customerId: context?.customer?.id ?? null,
    caller: callerOf(start),
  }),
});

export type OrderLineApp = typeof orderLineApp;
