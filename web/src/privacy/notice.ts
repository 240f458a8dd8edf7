// The privacy notice as the server generates it from its configuration (GET /api/privacy): the
// texts come from the server in English and German; this module only checks their shape.
import { field, isPlainObject } from '../protocol/validate';

export interface NoticeSection {
  title: string;
  paragraphs: string[];
}

export interface PrivacyNotice {
  /** The `privacy_*` settings the operator left empty. */
  missing: string[];
  notice: { en: NoticeSection[]; de: NoticeSection[] };
}

const MAX_SECTIONS = 32;
const MAX_PARAGRAPHS = 64;
const MAX_TEXT = 8192;

function text(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}

function sections(value: unknown): NoticeSection[] | null {
  if (!Array.isArray(value) || value.length > MAX_SECTIONS) return null;
  const out: NoticeSection[] = [];
  for (const item of value) {
    if (!isPlainObject(item)) return null;
    const title = field(item, 'title');
    const paragraphs = field(item, 'paragraphs');
    if (!text(title) || !Array.isArray(paragraphs) || paragraphs.length > MAX_PARAGRAPHS) return null;
    if (!paragraphs.every(text)) return null;
    out.push({ title, paragraphs: paragraphs });
  }
  return out;
}

/** The notice from the body of GET /api/privacy, or null when it is not one. */
export function parsePrivacyNotice(body: unknown): PrivacyNotice | null {
  if (!isPlainObject(body)) return null;
  const missing = field(body, 'missing');
  const notice = field(body, 'notice');
  if (!Array.isArray(missing) || missing.length > MAX_SECTIONS || !missing.every(text)) return null;
  if (!isPlainObject(notice)) return null;
  const en = sections(field(notice, 'en'));
  const de = sections(field(notice, 'de'));
  if (en === null || de === null) return null;
  return { missing: missing, notice: { en, de } };
}
