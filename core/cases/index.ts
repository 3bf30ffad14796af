// Cases: records, the state machine with its permissions, SLA clock, trail chain, categories, indicators.
export * from './types.ts';
export * from './machine.ts';
export * from './sla.ts';
export * from './trail.ts';
export * from './categories.ts';
export * from './stats.ts';
export * from './sensor.ts';
