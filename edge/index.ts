export { EdgeGateway, type GatewayOptions, type LocalMessage } from './gateway.ts';
export { Outbox, type OutboxEntry } from './outbox.ts';
