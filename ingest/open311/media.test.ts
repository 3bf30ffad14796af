/**
 * The `media` upload of POST service request (issue 11, finding 7: a multipart photo was accepted with 201 and
 * silently dropped): kept as case evidence, type sniffed from the bytes, size-capped, and a public copy
 * without metadata (no EXIF GPS) behind media_url.
 */
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { Open311Api, Open311Error } from './api.ts';
import { collect, readPost } from './http.ts';
import { MEDIA_MAX_BYTES, prepareMedia } from './media.ts';
import { FakeCases, MemoryStore, fakeDeps } from './fake.test-util.ts';

/** A small JPEG carrying EXIF with a GPS position (the kind of thing a phone photo has). */
async function photoWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'SecretCam 9' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '39/1 7/1 1234/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '117/1 12/1 0/1',
      },
    })
    .toBuffer();
}

const FIELDS = 'api_key=o311_test_key&service_code=city_appearance.exposed_garbage&lat=39.5&long=117.5';

let cases: FakeCases;
let store: MemoryStore;
let api: Open311Api;
beforeEach(() => {
  cases = new FakeCases();
  store = new MemoryStore();
  store.keys.set('o311_test_key', 'k1');
  api = new Open311Api(fakeDeps(cases, store));
});

function multipart(fields: string, file: { bytes: Buffer; type: string; name: string } | null, field = 'media') {
  const fd = new FormData();
  for (const [k, v] of new URLSearchParams(fields)) fd.append(k, v);
  if (file) fd.append(field, new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  return new Request('http://x/open311/v2/requests.json', { method: 'POST', body: fd });
}

async function error(p: Promise<unknown>): Promise<Open311Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Open311Error) return e;
    throw e;
  }
  throw new Error('expected an Open311Error');
}

describe('media upload', () => {
  it('keeps the photo as evidence and serves a metadata-free public copy at media_url', async () => {
    const jpeg = await photoWithGps();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const input = await readPost(multipart(FIELDS, { bytes: jpeg, type: 'image/jpeg', name: 'p.jpg' }), 'en');
    const r = await api.postRequest(input, null, 'en');
    expect(r.status).toBe(201);
    const caseId = cases.docs[0].id;
    const kept = store.media.get(caseId)!;
    expect(kept.mime).toBe('image/jpeg');
    expect(kept.original.equals(jpeg)).toBe(true);
    const pub = await sharp(kept.publicJpeg).metadata();
    expect(pub.format).toBe('jpeg');
    expect(pub.exif).toBeUndefined();
    expect(kept.publicJpeg.includes(Buffer.from('SecretCam'))).toBe(false);
    const id = (r.body as { service_request_id: string }[])[0].service_request_id;
    const [req] = (await api.getRequest(id, new URLSearchParams(), null, 'en', 'https://city.example')).body as {
      media_url: string;
    }[];
    expect(req.media_url).toBe(`https://city.example/open311/v2/media/${id}.jpg`);
    expect((await api.media(id))!.bytes.equals(kept.publicJpeg)).toBe(true);
  });

  it('sniffs the type from the bytes: a text file named .jpg is refused (415) and makes no case', async () => {
    const input = await readPost(
      multipart(FIELDS, { bytes: Buffer.from('#!/bin/sh\necho hi\n'), type: 'image/jpeg', name: 'p.jpg' }),
      'en',
    );
    const e = await error(api.postRequest(input, null, 'en'));
    expect(e.status).toBe(415);
    expect(e.errors[0].description).toMatch(/JPEG, PNG or WebP/);
    expect(cases.docs).toHaveLength(0);
  });

  it('accepts PNG and WebP; refuses GIF', async () => {
    const img = sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } });
    expect((await prepareMedia(await img.clone().png().toBuffer(), 'en')).mime).toBe('image/png');
    expect((await prepareMedia(await img.clone().webp().toBuffer(), 'en')).mime).toBe('image/webp');
    expect((await error(prepareMedia(await img.clone().gif().toBuffer(), 'en'))).status).toBe(415);
  });

  it('refuses a photo over the cap with 413', async () => {
    const big = Buffer.alloc(MEDIA_MAX_BYTES + 1, 0xff);
    expect((await error(prepareMedia(big, 'en'))).status).toBe(413);
    const e = await error(readPost(multipart(FIELDS, { bytes: big, type: 'image/jpeg', name: 'big.jpg' }), 'en'));
    expect(e.status).toBe(413);
  });

  it('refuses a damaged image (400), a second file and files under other names', async () => {
    const jpeg = await photoWithGps();
    expect((await error(prepareMedia(jpeg.subarray(0, 200), 'en'))).status).toBe(400);
    const fd = new FormData();
    for (const [k, v] of new URLSearchParams(FIELDS)) fd.append(k, v);
    fd.append('media', new Blob([new Uint8Array(jpeg)]), 'a.jpg');
    fd.append('media', new Blob([new Uint8Array(jpeg)]), 'b.jpg');
    const two = new Request('http://x/open311/v2/requests.json', { method: 'POST', body: fd });
    expect((await error(readPost(two, 'en'))).status).toBe(400);
    const other = multipart(FIELDS, { bytes: jpeg, type: 'image/jpeg', name: 'a.jpg' }, 'photo');
    expect((await error(readPost(other, 'en'))).errors[0].description).toMatch(/send a photo as media/);
  });

  it('without media there is no media_url of ours', async () => {
    const r = await api.postRequest(collect([...new URLSearchParams(FIELDS)]), null, 'en');
    const id = (r.body as { service_request_id: string }[])[0].service_request_id;
    const [req] = (await api.getRequest(id, new URLSearchParams(), null, 'en', 'https://city.example')).body as {
      media_url: string | null;
    }[];
    expect(req.media_url).toBeNull();
    expect(await api.media(id)).toBeNull();
  });
});
