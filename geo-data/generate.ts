/**
 * The synthetic sample district (division code 120106): 10 streets, 123 communities, 992 base grids over
 * about 21 km² around 117.15 E, 39.17 N, with a sample fleet, departments and users. Deterministic: the
 * same seed gives the same bytes.
 *
 *   node --import tsx geo-data/generate.ts [--density 1|10] [--seed N] [--out DIR]
 *
 * Density 1 writes geo-data/sample/ (committed). Density 10 (9,920 base grids in the same 10 streets and
 * 123 communities, for benchmarks) writes geo-data/sample-dense/ (git-ignored) unless --out is given;
 * benchmarks can instead call generateDistrict({ density: 10 }) in memory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Feature, Polygon } from 'geojson';
import { buildDistrictGeometry, COMMUNITY_COUNT } from './district.ts';
import { buildFleet } from './fleet.ts';
import { DEPARTMENTS, sampleUsers } from './catalog.ts';
import { COMMUNITY_STEMS, COMMUNITY_SUFFIXES, DISTRICT_CODE, DISTRICT_NAME, STREET_NAMES } from './names.ts';
import { shuffle, substream } from './prng.ts';
import { sampleFiles } from './serialize.ts';
import type { District, GridFeatureProps, GridKind, GridLevel } from './types.ts';

/** The seed of the committed sample files. */
export const SAMPLE_SEED = 20261123;
const S_NAMES = 30;
const S_HOUSEHOLDS = 31;

export interface GenerateOptions {
  /** 1 (992 base grids) or 10 (9,920). */
  density?: number;
  seed?: number;
}

export function generateDistrict(options: GenerateOptions = {}): District {
  const density = options.density ?? 1;
  const seed = options.seed ?? SAMPLE_SEED;
  if (!Number.isInteger(density) || density < 1 || density > 10)
    throw new RangeError('density must be an integer 1..10');
  const geo = buildDistrictGeometry(density, seed);

  const pad = (n: number) => String(n).padStart(3, '0');
  const streetCodes = Array.from(geo.streetSeq, (s) => `${DISTRICT_CODE}${pad(s)}`);
  const communityCodes = Array.from(geo.communitySeq, (s, k) => `${streetCodes[geo.communityStreet[k]]}${pad(s)}`);
  const gridCodes = Array.from(geo.gridSeq, (s, k) => `${communityCodes[geo.gridCommunity[k]]}${pad(s)}`);

  const allNames = COMMUNITY_SUFFIXES.flatMap((suf) => COMMUNITY_STEMS.map((stem) => `${stem}${suf}`));
  const communityNames = shuffle(allNames, substream(seed, S_NAMES))
    .slice(0, COMMUNITY_COUNT)
    .map((n) => `${n}社区`);
  const streetNames = [...STREET_NAMES];

  // Households: a few hundred per base grid, summed upwards.
  const hh = substream(seed, S_HOUSEHOLDS);
  const gridHouseholds = gridCodes.map(() => 180 + Math.floor(hh() * 441));
  const communityHouseholds = new Array<number>(communityCodes.length).fill(0);
  gridHouseholds.forEach((n, k) => (communityHouseholds[geo.gridCommunity[k]] += n));
  const streetHouseholds = new Array<number>(streetCodes.length).fill(0);
  communityHouseholds.forEach((n, k) => (streetHouseholds[geo.communityStreet[k]] += n));
  const districtHouseholds = streetHouseholds.reduce((s, n) => s + n, 0);

  const feature = (
    code: string,
    level: GridLevel,
    kind: GridKind,
    name: string,
    parent: string | null,
    households: number,
    ring: number[][],
  ): Feature<Polygon, GridFeatureProps> => ({
    type: 'Feature',
    properties: { code, level, name, parent, kind, households, sample: true },
    geometry: { type: 'Polygon', coordinates: [ring] },
  });
  const features: Feature<Polygon, GridFeatureProps>[] = [
    feature(DISTRICT_CODE, 1, 'district', DISTRICT_NAME, null, districtHouseholds, geo.districtRing),
    ...streetCodes.map((code, k) =>
      feature(code, 2, 'street', streetNames[k], DISTRICT_CODE, streetHouseholds[k], geo.streetRings[k]),
    ),
    ...communityCodes.map((code, k) =>
      feature(
        code,
        3,
        'community',
        communityNames[k],
        streetCodes[geo.communityStreet[k]],
        communityHouseholds[k],
        geo.communityRings[k],
      ),
    ),
    ...gridCodes.map((code, k) =>
      feature(
        code,
        4,
        'grid',
        `${communityNames[geo.gridCommunity[k]]}第${geo.gridSeq[k]}网格`,
        communityCodes[geo.gridCommunity[k]],
        gridHouseholds[k],
        geo.gridRings[k],
      ),
    ),
  ];

  const fleet = buildFleet(geo, gridCodes, communityNames, streetNames, seed);
  const firstGrids = communityCodes.slice(0, 4).map((c) => `${c}001`);
  return {
    density,
    seed,
    grids: { type: 'FeatureCollection', features },
    fleet,
    departments: DEPARTMENTS,
    users: sampleUsers(firstGrids),
  };
}

/** Where the committed sample files live. */
export const SAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sample');

function main(argv: string[]): void {
  let density = 1;
  let seed = SAMPLE_SEED;
  let out: string | null = null;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--density') density = Number(argv[++k]);
    else if (a === '--seed') seed = Number(argv[++k]);
    else if (a === '--out') out = argv[++k];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node --import tsx geo-data/generate.ts [--density 1|10] [--seed N] [--out DIR]');
      return;
    } else throw new Error(`unknown argument ${a}`);
  }
  const dir = out ?? (density === 1 ? SAMPLE_DIR : join(dirname(SAMPLE_DIR), `sample-dense`));
  const district = generateDistrict({ density, seed });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(sampleFiles(district))) {
    writeFileSync(join(dir, name), text);
    console.log(`${join(dir, name)}  ${Buffer.byteLength(text)} bytes`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
