// live-call-guard/realtime: a voice agent on the OpenAI Realtime API (GA
// protocol) for `mediaStream`: tools answered from the frozen context or
// buffered as the app's writes, the conversation recorded as the app's
// writes, barge-in truncated at the position heard. Needs `openai` (types only).
export { realtimeAgent } from './realtime-agent.js';
export type { RealtimeAgent } from './realtime-agent.js';
export type { ModelFailure, RealtimeAgentOptions } from './realtime-options.js';
export { readTool, writeTool } from './realtime-tool.js';
export type { ReadTool, RealtimeTool, ToolCallScope, ToolRefusal, ToolWrite, WriteTool } from './realtime-tool.js';
export type { RealtimeCallStats } from './realtime-stats.js';
export type { RealtimeTranscriptOptions, TranscriptEntry } from './transcript.js';
