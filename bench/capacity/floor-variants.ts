/**
 * The floor with one piece of what our server is added (bare-floor.ts reads
 * it from FLOOR_VARIANT), to price that piece alone beside the plain floor:
 * bench:capacity --side-by-side N --floor-variants.
 */
export const FLOOR_VARIANTS = ['recogniser', 'als', 'shapes'] as const;
export type FloorVariant = (typeof FLOOR_VARIANTS)[number];

export const FLOOR_VARIANT_DESCRIPTIONS: Record<FloorVariant, string> = {
  recogniser: "media frames recognised on their text, as our server does, instead of JSON.parse and a base64 decode",
  als: "an AsyncLocalStorage in use, as OpenTelemetry's context manager puts one in any traced app",
  shapes: "four more kinds of socket through Node's stream code, as an app's database and HTTP clients bring",
};
