/**
 * GeoReport v2 has no language parameter. Text (service names, notices, errors) is Simplified Chinese by
 * default, like the wall; a client that prefers English says so with `Accept-Language: en`.
 */
export type Lang = 'zh' | 'en';

/** The first of zh/en in the client's Accept-Language preference order (q-values honoured); zh by default. */
export function pickLang(acceptLanguage: string | null | undefined): Lang {
  if (!acceptLanguage) return 'zh';
  const prefs = acceptLanguage
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const qv = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim().toLowerCase(), q: Number.isFinite(qv) ? qv : 0, i };
    })
    .filter((p) => p.tag && p.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const p of prefs) {
    if (p.tag === 'zh' || p.tag.startsWith('zh-')) return 'zh';
    if (p.tag === 'en' || p.tag.startsWith('en-')) return 'en';
  }
  return 'zh';
}

export type Text = { zh: string; en: string };

export function tr(t: Text, lang: Lang): string {
  return t[lang];
}
