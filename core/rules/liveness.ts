/**
 * Liveness per kind of device (issue 12 §3): how often a device must be heard from before its silence is a
 * case. Defaults fit what such devices really do; a device's registered `intervalS` overrides its kind.
 *
 * - cameras speak only on detection (Frigate, ISAPI/Dahua alarm pushes): no heartbeat is expected;
 * - NB-IoT smoke, heat and gas detectors and manhole sensors report about once a day (their modules
 *   sleep; a daily report is the usual NB-IoT design, GB 20517-style wireless detectors alike);
 * - gateways (Frigate NVRs publish stats every 60 s; IoT gateways their own keep-alive): 5 minutes;
 * - other sensors and water-level gauges: 10 minutes and an hour;
 * - a gateway's child without its own interval lives by its gateway's liveness: when the gateway is
 *   lost, one case is raised for the gateway, not one per child.
 */
export const KIND_INTERVAL_S: Record<string, number> = {
  camera: 0,
  smoke: 86_400,
  heat: 86_400,
  gas: 86_400,
  manhole: 86_400,
  water_level: 3600,
  sensor: 600,
  gateway: 300,
};

export interface Liveness {
  /** Expected reporting interval, s; 0 = no heartbeat expected (lost never raised). */
  intervalS: number;
  /** Where it comes from: the device's registration, its kind's default, or its gateway. */
  source: 'device' | 'kind' | 'gateway';
  /** For source gateway: the gateway it lives by. */
  gateway: string | null;
}

export function livenessOf(d: {
  kind: string;
  intervalS: number;
  intervalSet: boolean;
  gateway: string | null;
}): Liveness {
  if (d.intervalSet) return { intervalS: d.intervalS, source: 'device', gateway: null };
  if (d.gateway) return { intervalS: 0, source: 'gateway', gateway: d.gateway };
  return { intervalS: KIND_INTERVAL_S[d.kind] ?? 600, source: 'kind', gateway: null };
}
