export { loadCallContext } from './load-call-context.js';
export type { LoadCallContextOptions } from './load-call-context.js';
export { callContextFromRow } from './call-context.js';
export type {
  CallContext,
  CallContextRow,
  CallLogSnapshot,
  LeadSnapshot,
  BusinessSnapshot,
  BusinessSettingsSnapshot,
  JsonValue,
} from './call-context.js';
export { extractFirstName } from './first-name.js';
export { deepFreeze } from './deep-freeze.js';
export { callIdsSchema, callSidSchema, rowIdSchema } from './call-ids.js';
export type { CallIds, CallIdsInput } from './call-ids.js';
