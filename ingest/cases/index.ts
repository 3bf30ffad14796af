// Cases in the platform: the service (port.ts is the web tier's interface), rules runner, scheduler.
export * from './port.ts';
export { CaseService, CaseTx, scopeOfActor, sha256Hex, type CaseServiceOptions } from './service.ts';
export { RulesRunner, gridRefOf, type RulesRunnerOptions, type RulesStatus } from './rules-runner.ts';
export { CaseScheduler, SCHEDULER_DEFAULTS, type SchedulerOptions } from './scheduler.ts';
export { CameraIndex } from './cameras.ts';
export { DepartmentDirectory } from './departments.ts';
export { caseStatsFor, narrowScope, type ScopedStats } from './stats.ts';
export { registerCaseMetrics } from './metrics.ts';
