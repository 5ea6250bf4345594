// Runs the order line: `DATABASE_URL=postgres://… node --import tsx examples/order-line/main.ts`.
// The OpenTelemetry SDK (with the guard) starts before anything loads pg.
import { GUARD_MODES, type GuardMode } from '../../src/guard/index.js';
import { startTelemetry } from '../../src/sdk/index.js';

const mode = (process.env.LIVE_CALL_GUARD ?? 'report') as GuardMode;
if (!GUARD_MODES.includes(mode)) throw new TypeError(`LIVE_CALL_GUARD must be one of ${GUARD_MODES.join(', ')} (received ${mode})`);
const telemetry = startTelemetry({ serviceName: 'order-line', guard: { mode } });

const { createLogger } = await import('../../src/index.js');
const { startOrderLine } = await import('./server.js');
const { seedShop } = await import('./seed.js');

const logger = createLogger();
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new TypeError('DATABASE_URL is required (a PostgreSQL the order line may migrate)');
const server = await startOrderLine({
  databaseUrl,
  journalDir: process.env.JOURNAL_DIR ?? '.data/order-line-journal',
  port: Number(process.env.PORT ?? 8080),
  ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
  ...(process.env.CALL_STREAM_SECRET ? { streamSecret: process.env.CALL_STREAM_SECRET } : {}),
  ...(process.env.TWILIO_AUTH_TOKEN ? { twilioAuthToken: process.env.TWILIO_AUTH_TOKEN } : {}),
  logger,
});

const demo = (await server.knex('order_line.shops').where({ phone: '+15550001000' }).first('id')) as { id: string } | undefined;
const shopId =
  demo?.id ??
  (await seedShop(server.knex, {
    name: "Luigi's Takeaway",
    phone: '+15550001000',
    menu: [
      { sku: 'margherita', name: 'Margherita', priceCents: 900 },
      { sku: 'diavola', name: 'Diavola', priceCents: 1100 },
      { sku: 'tiramisu', name: 'Tiramisu', priceCents: 550 },
    ],
  }));
logger.info(`point the number's voice webhook at ${server.url}/twiml?shop_id=${shopId}`);

const stop = (): void => {
  server
    .close()
    .then(() => telemetry.shutdown())
    .catch((error: unknown) => logger.error({ err: error }, 'stopping failed'))
    .finally(() => process.exit(0));
};
process.once('SIGINT', stop).once('SIGTERM', stop);
