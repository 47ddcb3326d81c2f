// The RESP front door as the primary mounts it: a RespServer over a RespBackend.
export type { RespBackend, RespInfo, RespOps, RespReply, RespRequest } from './backend.js';
export type { RespParserLimits, RespServerLimits } from './limits.js';
export { RespServer, type RespServerEvent, type RespServerOptions } from './server.js';
