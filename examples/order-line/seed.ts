import type { Knex } from 'knex';

export interface ShopSeed {
  name: string;
  phone: string;
  /** In keypad order: the first is key 1. At most 9. */
  menu: ReadonlyArray<{ sku: string; name: string; priceCents: number }>;
  customers?: ReadonlyArray<{ phone: string; displayName: string | null }>;
}

/** Creates a shop with its menu and customers; returns the shop's UUID. Before any call: it may query at will. */
export async function seedShop(knex: Knex, shop: ShopSeed): Promise<string> {
  return knex.transaction(async (trx) => {
    const [{ id }] = (await trx('order_line.shops').insert({ name: shop.name, phone: shop.phone }).returning('id')) as [{ id: string }];
    await trx('order_line.menu_items').insert(shop.menu.map((item, index) => ({ shop_id: id, sku: item.sku, name: item.name, price_cents: item.priceCents, position: index + 1 })));
    if (shop.customers?.length) {
      await trx('order_line.customers').insert(shop.customers.map((customer) => ({ shop_id: id, phone: customer.phone, display_name: customer.displayName })));
    }
    return id;
  });
}
