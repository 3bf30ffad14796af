/**
 * The OpenAPI document is generated from the validation schemas: every component is valid JSON Schema
 * 2020-12, every API route in web/routes has its path, and a body the document accepts is one the
 * validator accepts (and the other way round) for samples of each action.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../core/schemas/openapi.ts';
import { parseBody, parseCaseAction, CaseIntakeBody } from '../../core/schemas/api.ts';

const doc = openApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

/** `METHOD /path` of every +server.ts under dir (SvelteKit's [param] as OpenAPI's {param}). */
function routes(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...routes(p, `${base}/${f}`));
    else if (f === '+server.ts') {
      const route = base.replace(/\[(\w+)\]/g, '{$1}') || '/';
      for (const m of readFileSync(p, 'utf8').matchAll(/^export const (GET|POST|PUT|PATCH|DELETE)\b/gm)) {
        out.push(`${m[1].toLowerCase()} ${route}`);
      }
    }
  }
  return out;
}

describe('GET /api/openapi.json', () => {
  it('is OpenAPI 3.1 and covers every HTTP route of web/routes', () => {
    expect(doc.openapi).toBe('3.1.0');
    const missing = routes('web/routes').filter((r) => {
      const [method, p] = r.split(' ');
      return !doc.paths[p]?.[method];
    });
    expect(missing).toEqual([]);
    for (const p of ['/healthz', '/metrics', '/live']) expect(doc.paths[p]).toBeDefined();
  });

  it('has component schemas that compile, and that agree with the validators', () => {
    // CommonJS modules: the class / function may sit on `.default` depending on the loader's interop
    const Ajv = (Ajv2020 as unknown as { default?: typeof Ajv2020 }).default ?? Ajv2020;
    const formats = (addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats;
    const ajv = new Ajv({ strict: false, allErrors: true });
    formats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => ajv.getSchema(`doc#/components/schemas/${name}`)).not.toThrow();
    }
    const action = ajv.getSchema('doc#/components/schemas/CaseAction')!;
    const intake = ajv.getSchema('doc#/components/schemas/CaseIntakeBody')!;
    const samples: [unknown, boolean][] = [
      [{ action: 'register', category: 'fire.fire_alarm', priority: 1, version: 1 }, true],
      [{ action: 'register', category: 'fire.fire_alarm', priority: 5, version: 1 }, false],
      [{ action: 'whistle', departments: ['police', 'fire'], version: 3 }, true],
      [{ action: 'whistle', departments: [], version: 3 }, false],
      [{ action: 'evaluate', satisfaction: 4, version: 9 }, true],
      [{ action: 'comment', version: 2 }, false],
      [{ action: 'fly', version: 2 }, false],
      [{ action: 'claim' }, false],
    ];
    for (const [body, good] of samples) {
      expect(action(body), JSON.stringify(body)).toBe(good);
      let accepted = true;
      try {
        parseCaseAction(body);
      } catch {
        accepted = false;
      }
      expect(accepted, JSON.stringify(body)).toBe(good);
    }
    const intakeSamples: [unknown, boolean][] = [
      [{ title: 'x', category: 'fire', location: [117.2, 39.1], source: 'hotline' }, true],
      [{ title: 'x', category: 'fire', location: [517.2, 39.1], source: 'hotline' }, false],
      [{ title: 'x', category: 'fire', location: [117.2, 39.1], source: 'sensor' }, false],
    ];
    for (const [body, good] of intakeSamples) {
      expect(intake(body)).toBe(good);
      let accepted = true;
      try {
        parseBody(CaseIntakeBody, body);
      } catch {
        accepted = false;
      }
      expect(accepted).toBe(good);
    }
  });
});
