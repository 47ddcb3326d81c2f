// `import … from 'osps'`: the client API, and what a service author writes against
// (docs/PROTOCOL.md, docs/SERVICE.md).
export * from './client/index.js';
export {
  defineService,
  ServiceError,
  type CommandContext,
  type CommandHandler,
  type QueryContext,
  type QueryHandler,
  type ServiceDefinition,
  type SnapshotPart,
  type TimerHandler,
} from './protocol/service.js';
