// Open311 GeoReport v2: the service catalogue, case ↔ service request mapping, XML, API keys and tokens.
export * from './api.ts';
export * from './flood.ts';
export * from './http.ts';
export * from './lang.ts';
export * from './media.ts';
export * from './platform.ts';
export * from './privacy.ts';
export * from './requests.ts';
export * from './services.ts';
export * from './store.ts';
export * from './xml.ts';
