// Type declarations for the grid I/O libraries that ship none.
declare module 'shpjs' {
  import type { FeatureCollection } from 'geojson';
  type ShpResult = FeatureCollection & { fileName?: string };
  /** Parse a zipped Shapefile (ArrayBuffer / Buffer); reprojects to WGS-84 from the .prj when present. */
  function shp(input: ArrayBuffer | ArrayBufferView | string): Promise<ShpResult | ShpResult[]>;
  export default shp;
  export function parseZip(
    buffer: ArrayBuffer | ArrayBufferView,
    whiteList?: string[],
  ): Promise<ShpResult | ShpResult[]>;
  /** The geometries of a .shp, in record order (reprojected when a .prj text is given). */
  export function parseShp(shp: ArrayBuffer | ArrayBufferView, prj?: string): import('geojson').Geometry[];
  /** Geometries and DBF rows zipped into a FeatureCollection. */
  export function combine(parts: [unknown[], unknown[] | undefined]): FeatureCollection;
}

declare module 'tokml' {
  import type { FeatureCollection } from 'geojson';
  interface TokmlOptions {
    documentName?: string;
    documentDescription?: string;
    name?: string;
    description?: string;
    simplestyle?: boolean;
    timestamp?: string;
  }
  function tokml(geojson: FeatureCollection, options?: TokmlOptions): string;
  export default tokml;
}
