// The service-module contract as the host runs it: the public types (docs/SERVICE.md) live in
// protocol/service.ts, the one definition that service authors, the built-in key-value
// service and the host all use.
import { RESERVED_OPS as RESERVED, SERVICE_ERROR_CODE, SERVICE_OP_NAME } from '../protocol/service.js';

export type { Json } from '../protocol/wire.js';
export {
  ServiceError,
  type CommandContext,
  type CommandHandler,
  type QueryContext,
  type QueryHandler,
  type ServiceDefinition,
  type SnapshotPart,
  type TimerHandler,
} from '../protocol/service.js';

/** Op names a service may define (SERVICE.md). */
export const OP_NAME = SERVICE_OP_NAME;
/** Codes a service may raise. */
export const SERVICE_CODE = SERVICE_ERROR_CODE;
/** Ops of osps itself, which a service cannot redefine. */
export const RESERVED_OPS: ReadonlySet<string> = new Set(RESERVED);
