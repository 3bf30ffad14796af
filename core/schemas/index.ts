/** Message schemas of the external contract (MQTT v1). The face of `core/schemas`; edge imports only this. */
export * from './v1.ts';
