import type { Knex } from 'knex';
import type { CallContextSpec, StartOfCall } from '../../src/index.js';

export interface MenuItem {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  /** The key the caller presses for it (1-9). */
  readonly position: number;
}

/** Everything an order-line call reads, loaded once at call start and frozen. */
export interface OrderContext {
  readonly shop: { readonly id: string; readonly name: string };
  /** By keypad position. */
  readonly menu: readonly MenuItem[];
  /** The caller, when the shop knows their number. */
  readonly customer: { readonly id: string; readonly displayName: string | null } | null;
}

interface OrderContextRow {
  shop_id: string;
  shop_name: string;
  menu: MenuItem[] | null;
  customer_id: string | null;
  customer_name: string | null;
}

/** The caller's number, as the `/twiml` route passes it (parameter `caller`). */
export function callerOf(start: Pick<StartOfCall, 'parameters'>): string | null {
  return start.parameters.caller ?? null;
}

/**
 * The order line's ONE start-of-call statement: the shop, its menu as a
 * json array (a correlated json_agg, so no row fan-out), and the customer
 * with the caller's number *of this shop*. Another shop's customer never
 * matches.
 */
export const orderContext: CallContextSpec<string, OrderContext> = {
  query: (knex: Knex, start) =>
    knex
      .from('order_line.shops as s')
      .leftJoin('order_line.customers as c', (join) => {
        join.on('c.shop_id', '=', 's.id').andOn('c.phone', '=', knex.raw('?', [callerOf(start)]));
      })
      .where('s.id', start.tenantId)
      .first(
        's.id as shop_id',
        's.name as shop_name',
        knex.raw(
          `(select json_agg(json_build_object('sku', m.sku, 'name', m.name, 'priceCents', m.price_cents, 'position', m.position) order by m.position)
              from order_line.menu_items m where m.shop_id = s.id) as menu`,
        ),
        'c.id as customer_id',
        'c.display_name as customer_name',
      ),
  fromRow: (raw) => {
    const row = raw as unknown as OrderContextRow;
    return {
      shop: { id: row.shop_id, name: row.shop_name },
      menu: row.menu ?? [],
      customer: row.customer_id === null ? null : { id: row.customer_id, displayName: row.customer_name },
    };
  },
};
