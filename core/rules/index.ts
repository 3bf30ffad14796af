// Rules and fusion: events and readings in, case decisions out; the rules file; distance helper.
export * from './types.ts';
export * from './engine.ts';
export * from './rulesfile.ts';
export * from './geo.ts';
export * from './apply.ts';
export * from './vendor-types.ts';
export * from './liveness.ts';
