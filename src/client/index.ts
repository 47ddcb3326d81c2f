// The client library's public surface (re-exported by src/index.ts): the client, its request
// and result types, and its errors. Load generation and percentiles stay internal.
export { Client, CLIENT_DEFAULTS, type ClientOptions } from './client.js';
export type {
  CallRequest,
  ClientRequest,
  DelRequest,
  GetRequest,
  IncrRequest,
  InfoRequest,
  KvOp,
  KvRequest,
  OpArgs,
  OpResults,
  PingRequest,
  RequestOptions,
  ServerInfo,
  SetRequest,
} from './requests.js';
export {
  ClientError,
  isClientError,
  LOCAL_ERROR_CODES,
  SERVER_ERROR_CODES,
  type ClientErrorCode,
  type LocalErrorCode,
  type ServerErrorCode,
  type ServiceErrorCode,
} from './errors.js';
export type { Json, Reply, OkReply, ErrReply } from '../protocol/wire.js';
