/**
 * The offline basemap: a dark background and nothing fetched from the internet (no tiles, glyphs or
 * sprites). Labels are drawn by deck.gl's TextLayer with the browser's local CJK fonts.
 * An intranet basemap can be configured with PUBLIC_BASEMAP_STYLE (a style URL) — see README.
 */
import type { StyleSpecification } from 'maplibre-gl';

export const OFFLINE_STYLE: StyleSpecification = {
  version: 8,
  name: 'onegrid-dark-offline',
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#07101f' } }],
};

export const HOME = { center: [117.15, 39.17] as [number, number], zoom: 12.3, pitch: 45, bearing: -10 };
