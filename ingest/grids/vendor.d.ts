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
