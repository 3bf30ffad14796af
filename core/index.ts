// core's face: the pure domain. Each concept lives in its own file; re-export here.
export * from './errors.ts';
export * from './grid/codes.ts';
export * from './grid/join.ts';
export * from './cases/index.ts';
export * from './rules/index.ts';
export * from './grid/topology.ts';
export * from './geo/transform.ts';
export * from './grid/studio.ts';
