/**
 * The test tiers' system needs are listed completely (issue: a missing GStreamer element showed up late and
 * vaguely as RTSP 5XX). Every element the RTSP test server's pipelines use is in the one list, every item of
 * the list is met on this machine after `npm test`'s install step, and a pipeline that cannot be built stops
 * the RTSP server at start, naming the element.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REQUIREMENTS, isMet, missingRequirements } from './system.ts';
import { startRtspServer } from './rtsp.ts';

const GST_CORE = new Set(['filesrc', 'fakesink', 'queue', 'tee', 'capsfilter']); // libgstreamer1.0-0 itself

/** Element names in gst-launch descriptions: the word after each `(` or `!`, caps (`video/x-raw`) excluded. */
function elementsOf(python: string): Set<string> {
  const joined = python.replace(/"\s*\n\s*f?"/g, ''); // adjacent string literals are one pipeline
  const names = new Set<string>();
  for (const m of joined.matchAll(/(?:!|"\()\s*([a-z][a-z0-9_]*)\b(?![/=])/g)) names.add(m[1]);
  return names;
}

describe('system requirements', () => {
  it('lists every GStreamer element the RTSP test server uses', () => {
    const py = readFileSync(new URL('./rtsp-server.py', import.meta.url), 'utf8');
    const used = elementsOf(py);
    expect(used).toContain('clockoverlay');
    expect(used).toContain('x264enc');
    const listed = new Set(REQUIREMENTS.filter((r) => r.kind === 'gst-element').map((r) => r.name));
    const unlisted = [...used].filter((e) => !listed.has(e) && !GST_CORE.has(e));
    expect(unlisted).toEqual([]);
  });

  it('names a package for every requirement, and all are met here', () => {
    for (const r of REQUIREMENTS) expect(r.package).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
    expect(missingRequirements().packages).toEqual([]);
  });

  it('the README names every package the tests need', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = [...new Set(REQUIREMENTS.map((r) => r.package))].filter((p) => !readme.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('checks each requirement by what it is: an unknown element or program is missing', () => {
    expect(isMet({ tier: 't', kind: 'gst-element', name: 'no_such_element_x', package: 'p', why: '' })).toBe(false);
    expect(isMet({ tier: 't', kind: 'program', name: 'no-such-program-x', package: 'p', why: '' })).toBe(false);
    expect(isMet({ tier: 't', kind: 'font', name: 'No Such Font X', package: 'p', why: '' })).toBe(false);
    expect(isMet({ tier: 't', kind: 'gst-element', name: 'videotestsrc', package: 'p', why: '' })).toBe(true);
  });

  it('the RTSP server refuses to start when a pipeline cannot be built, naming the element', async () => {
    await expect(
      startRtspServer({ launch: { '/broken': 'videotestsrc ! no_such_overlay ! x264enc ! rtph264pay name=pay0' } }),
    ).rejects.toThrow(/no element "no_such_overlay"/);
  });
});
