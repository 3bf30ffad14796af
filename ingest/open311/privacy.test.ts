/**
 * What the public sees of a citizen's report (issue 11, finding 7): contact data masked in free text, public
 * coordinates coarsened, only public notes in status_notes — through the Open311 methods, in JSON and XML.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Open311Api, type Open311Result } from './api.ts';
import { collect } from './http.ts';
import { coarsen, maskContact, maskEmail, maskName, maskPhone, maskText } from './privacy.ts';
import type { ServiceRequestJson } from './requests.ts';
import { toXml } from './xml.ts';
import { FakeCases, MemoryStore, fakeDeps } from './fake.test-util.ts';

describe('masking', () => {
  it('masks mobile and landline numbers, ID numbers and emails typed in free text', () => {
    expect(maskText('call me 13812345678 please')).toBe('call me 138****5678 please');
    expect(maskText('电话：138 1234 5678。')).toBe('电话：138 **** 5678。');
    expect(maskText('电话13812345678')).toBe('电话138****5678');
    expect(maskText('+86 138-1234-5678')).not.toMatch(/1234/);
    expect(maskText('landline 022-58881234')).toBe('landline 022-****1234');
    expect(maskText('身份证 120106199001011234')).not.toContain('19900101');
    expect(maskText('mail zhang.secret@example.cn now')).toBe('mail z***@example.cn now');
  });

  it('leaves dates, pole numbers and short numbers alone', () => {
    for (const s of ['on 2026-11-29 at 08:30', 'pole P-0042', '3 bins, 120 kg', 'Room 1203'])
      expect(maskText(s)).toBe(s);
  });

  it("masks the reporter's own name where it appears", () => {
    expect(maskText('张三丰说垃圾满了', ['张三丰'])).toBe('张**说垃圾满了');
    expect(maskText('Zhangsecret here', ['Zhangsecret'])).toBe('Z********** here');
  });

  it('masks contact fields', () => {
    expect(maskPhone('13912345678')).toBe('139****5678');
    expect(maskEmail('a.b@c.cn')).toBe('a***@c.cn');
    expect(maskName('Li Lei')).toBe('L* L**');
    expect(maskContact({ name: '王小明', phone: '13912345678', email: 'w@x.cn' })).toEqual({
      name: '王**',
      phone: '139****5678',
      email: 'w***@x.cn',
    });
  });

  it('coarsens [lng, lat] to 3 decimals (~100 m)', () => {
    expect(coarsen([117.123456, 39.987654])).toEqual([117.123, 39.988]);
  });
});

describe('public representations', () => {
  const KEY = 'o311_test_key';
  let cases: FakeCases;
  let store: MemoryStore;
  let api: Open311Api;
  const requests = (r: Open311Result) => r.body as ServiceRequestJson[];
  const q = () => new URLSearchParams();

  beforeEach(() => {
    cases = new FakeCases();
    store = new MemoryStore();
    store.keys.set(KEY, 'k1');
    api = new Open311Api(fakeDeps(cases, store));
  });

  const SECRETS = ['13912345678', 'zhang.secret@example.cn', 'Zhangsecret', '13800001111', 'li@private.cn'];

  it('never shows contact data or typed phone numbers, in lists and details, JSON and XML', async () => {
    const form =
      'api_key=o311_test_key&service_code=city_appearance.exposed_garbage&lat=39.5123456&long=117.5123456' +
      '&description=Zhangsecret+here%2C+call+13800001111+or+li%40private.cn&address_string=Gate+3%2C+ring+13912345678' +
      '&first_name=Zhangsecret&last_name=Sanfamily&phone=13912345678&email=zhang.secret%40example.cn';
    const posted = await api.postRequest(collect([...new URLSearchParams(form)]), null, 'en');
    const id = (posted.body as { service_request_id: string }[])[0].service_request_id;
    const list = await api.getRequests(q(), null, 'en');
    const one = await api.getRequest(id, q(), null, 'en');
    for (const r of [list, one]) {
      const texts = [JSON.stringify(r.body), toXml(r.root, r.body)];
      for (const t of texts) for (const s of SECRETS) expect(t).not.toContain(s);
    }
    const [req] = requests(one);
    expect(req.description).toBe('Z********** here, call 138****1111 or l***@private.cn');
    expect(req.address).toBe('Gate 3, ring 139****5678');
    // the case itself keeps what the citizen typed, for the handlers
    expect(cases.docs[0].description).toContain('13800001111');
    expect([req.long, req.lat]).toEqual([117.512, 39.512]);
  });

  it('shows only notes a handler marked public, in the current state; else a standard text', async () => {
    const c = cases.seed({});
    const id = store.idFor(c);
    const notes = async (lang: 'en' | 'zh' = 'en') =>
      requests(await api.getRequest(id, q(), null, lang))[0].status_notes;
    await cases.act(c.id, { action: 'reject', reason: 'Reporter 13812345678 is a known troll', version: 1 });
    expect(await notes()).toBe('Not accepted.');
    expect(await notes('zh')).toBe('不予立案。');
    store.notes.set(c.id, { text: 'Private land: call 13812345678', toState: 'rejected', at: 0 });
    expect(await notes()).toBe('Not accepted. Note: Private land: call 138****5678');
    expect(await notes('zh')).toBe('不予立案。办理说明：Private land: call 138****5678');
    // a public note from an earlier state does not describe this one
    store.notes.set(c.id, { text: 'On its way', toState: 'dispatched', at: 0 });
    expect(await notes()).toBe('Not accepted.');
  });

  it('names the surviving request of a merge by its public id only', async () => {
    const survivor = cases.seed({});
    const m = cases.seed({});
    await cases.act(m.id, { action: 'merge', into: survivor.id, version: 1 });
    const [r] = requests(await api.getRequest(store.idFor(m), q(), null, 'en'));
    expect(r.status_notes).toBe(`Duplicate request, merged into ${store.idFor(survivor)}.`);
    expect(r.status_notes).not.toContain(survivor.code);
  });
});
