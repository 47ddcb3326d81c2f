// The client library's public surface: `import { Client } from 'osps'`.
export { Client, CLIENT_DEFAULTS, type ClientOptions, type ClientRequest, type ServerInfo } from './client.js';
export { runLoad, type LoadOptions, type LoadOp, type LoadReport } from './load.js';
export { percentile, summarize, type Summary } from './percentiles.js';
export { OPS, type Op, type Request, type Reply, type OkReply, type ErrReply, type ErrorCode, type Json } from '../protocol/wire.js';
export { OspsError } from '../errors.js';
