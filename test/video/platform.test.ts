// Cameras through the whole platform: registered with an RTSP URL, opened at /video/{id} on the main
// HTTP port, authenticated and scoped; snapshots at /api/cameras/{id}/snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRtspServer, type RtspServer } from '../harness/rtsp.ts';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';

let rtsp: RtspServer;
let p: PlatformHandle;
let token: string;

beforeAll(async () => {
  rtsp = await startRtspServer();
  p = await startPlatformProcess({});
  token = await p.login();
});
afterAll(async () => {
  await p?.stop();
  await rtsp?.stop();
});

function open(id: string, headers: Record<string, string>): Promise<{ code?: number; messages: (string | Buffer)[] }> {
  return new Promise((resolve) => {
    const messages: (string | Buffer)[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/video/${id}`, { headers });
    const done = (code?: number) => {
      ws.terminate();
      resolve({ code, messages });
    };
    ws.on('message', (d, isBinary) => {
      messages.push(isBinary ? (d as Buffer) : d.toString());
      if (messages.filter((m) => Buffer.isBuffer(m)).length >= 2) done();
    });
    ws.on('unexpected-response', (_req, res) => done(res.statusCode));
    ws.on('error', () => done(-1));
    setTimeout(() => done(), 20_000);
  });
}

describe('video on the platform', () => {
  it('relays a registered camera to a signed-in viewer, refuses others, and takes snapshots', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const r = await fetch(`${p.url}/api/devices`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: 'cam-test-1',
        kind: 'camera',
        source: 'skynet',
        location: [117.15, 39.17],
        rtsp: rtsp.url('h264-360').replace('rtsp://', 'rtsp://viewer:secret@'),
      }),
    });
    expect(r.status).toBe(201);
    const created = await r.json();
    expect(JSON.stringify(created)).not.toContain('secret@'); // RTSP credentials never reach browsers

    expect((await open('cam-test-1', {})).code).toBe(401);
    expect((await open('no-such-cam', { authorization: `Bearer ${token}` })).code).toBe(404);
    const ok = await open('cam-test-1', { authorization: `Bearer ${token}` });
    const texts = ok.messages.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m));
    expect(texts.some((t) => t.type === 'init' && t.mode === 'passthrough')).toBe(true);
    const first = ok.messages.find((m) => Buffer.isBuffer(m)) as Buffer;
    expect(first.subarray(4, 8).toString()).toBe('ftyp');

    const snap = await fetch(`${p.url}/api/cameras/cam-test-1/snapshot`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await snap.arrayBuffer());
    expect(jpeg[0]).toBe(0xff);
    expect(jpeg[1]).toBe(0xd8);
    expect((await fetch(`${p.url}/api/cameras/cam-test-1/snapshot`)).status).toBe(401);
  });
});
