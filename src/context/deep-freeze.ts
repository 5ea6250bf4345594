/**
 * Freezes `value` and every object and array reachable from it, in place,
 * and returns it. Meant for plain data (rows, parsed JSON) whose type is
 * already declared read-only: no cycles, no class instances (a Date's time
 * cannot be frozen, so a call context keeps dates as ISO strings).
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
