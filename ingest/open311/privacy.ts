/**
 * What the public may see of a citizen's report (PIPL, GB/T 35273-2020 §3.14 "de-identification"):
 * contact data masked wherever it appears — in the contact fields and inside free text a citizen typed — and
 * coordinates coarsened. Pure functions; used by every public Open311 representation (JSON and XML, list
 * and detail) and, masked by default, by the handlers' contact view (GET /api/cases/{id}/contact).
 */

/** Public coordinates are rounded to this many decimals: 0.001° ≈ 111 m of latitude, ≈ 96 m of longitude at 30° N. */
export const PUBLIC_DECIMALS = 3;

/** [lng, lat] rounded to PUBLIC_DECIMALS (about 100 m), so a report does not point at one doorway. */
export function coarsen(loc: [number, number]): [number, number] {
  const f = 10 ** PUBLIC_DECIMALS;
  return [Math.round(loc[0] * f) / f, Math.round(loc[1] * f) / f];
}

/**
 * A phone number with its middle hidden, as Chinese services print them: 13812345678 → 138****5678; a
 * landline 022-58881234 → 022-****1234; anything shorter keeps its first two and last two digits. Separators
 * are kept where they stand.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 0) return '*'.repeat(Math.min(phone.length, 8));
  const keepHead = digits.length >= 11 ? 3 : digits.length >= 7 ? 2 : 1;
  const keepTail = digits.length >= 11 ? 4 : digits.length >= 7 ? 2 : 1;
  // A landline's area code (0 + 2–3 digits before a separator) stays visible.
  const area = /^(\+?\d{1,4}[\s-]|0\d{2,3}[\s-])/.exec(phone.trim());
  let seen = 0;
  const head = area ? area[0].replace(/\D/g, '').length : keepHead;
  return phone.replace(/\d/g, (d) => {
    seen++;
    return seen <= head || seen > digits.length - keepTail ? d : '*';
  });
}

/** z***@example.cn: the first character of the local part and the domain stay. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${[...email.slice(0, at)][0]}***${email.slice(at)}`;
}

/** 张三丰 → 张**; Zhang San → Z*** S**: the first character of each part stays. */
export function maskName(name: string): string {
  return name
    .trim()
    .split(/\s+/)
    .map((part) => {
      const chars = [...part];
      return chars[0] + '*'.repeat(Math.max(chars.length - 1, 1));
    })
    .join(' ');
}

// A mainland mobile (1[3-9] + 9 digits, optionally +86 / 0086, with spaces or dashes between groups), a
// landline with area code (0 + 2–3 digits, separator, 7–8 digits), or any run of 7+ digits (ID-card and
// other numbers). Digits inside a longer word (P-0042, 2026-11-29) are not phone numbers: dates have at
// most 4 digits in a group.
const PHONE =
  /(?<![\w.])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![\w])|(?<![\w.])0\d{2,3}[\s-]\d{7,8}(?!\d)|(?<![\w.])\d{7,}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * Free text a citizen typed, with phone numbers, email addresses and the given names (the submitter's own
 * first and last name) masked. Names shorter than two characters are not searched for (a one-character
 * surname would mask common words).
 */
export function maskText(text: string, names: readonly string[] = []): string {
  let out = text.replace(EMAIL, (m) => maskEmail(m)).replace(PHONE, (m) => maskPhone(m));
  for (const n of names) {
    const name = n.trim();
    if ([...name].length < 2) continue;
    out = out.split(name).join(maskName(name));
  }
  return out;
}

/** The contact a citizen gave with an Open311 request (stored on the case as `reporter`). */
export interface ReporterContact {
  name?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  deviceId?: string;
  accountId?: string;
}

/** The reporter's name parts, for masking them inside free text. */
export function namesOf(r: ReporterContact | null | undefined): string[] {
  if (!r) return [];
  const parts = [r.name, r.firstName, r.lastName].filter((x): x is string => typeof x === 'string' && !!x.trim());
  return [...new Set([...parts, ...parts.flatMap((p) => p.trim().split(/\s+/))])];
}

/** The contact with every field masked (what a handler sees before revealing). */
export function maskContact(r: ReporterContact): ReporterContact {
  const out: ReporterContact = {};
  if (r.name) out.name = maskName(r.name);
  if (r.firstName) out.firstName = maskName(r.firstName);
  if (r.lastName) out.lastName = maskName(r.lastName);
  if (r.email) out.email = maskEmail(r.email);
  if (r.phone) out.phone = maskPhone(r.phone);
  if (r.deviceId) out.deviceId = maskPhone(r.deviceId).replace(/[A-Za-z](?=.{4})/g, '*');
  if (r.accountId) out.accountId = r.accountId.length > 4 ? `${r.accountId.slice(0, 2)}***` : '***';
  return out;
}
