// Intake of devices' own pushes: camera alarm pushes (ISAPI, Dahua), the vendor event-type table, and
// case evidence fetched from NVRs.
export * from './alarm-push.ts';
export * from './event-types.ts';
export * from './frigate-evidence.ts';
