/**
 * Text shown to people: Unicode bidirectional control characters (U+202A–U+202E embeddings and overrides,
 * U+2066–U+2069 isolates, U+200E/U+200F marks, U+061C) can make a title read differently from what it is
 * ("Trojan Source", CVE-2021-42574). They are removed from titles, names and descriptions on input, and the
 * UI shows titles isolated (`unicode-bidi: isolate`). Pure.
 */
export const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** `s` without bidirectional control characters. */
export function stripBidi(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}
