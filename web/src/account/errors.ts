import { translate, type Lang, type MessageKey } from '../i18n';
import { AccountApiError } from './api';

const KNOWN = new Set(['bad-credentials', 'bad-code', 'bad-ticket', 'weak-password', 'unknown-user', 'login-required']);

/** What to tell the user about a failed account request. */
export function accountErrorText(lang: Lang, err: unknown): string {
  if (!(err instanceof AccountApiError)) return translate(lang, 'account.error.generic', { code: 'internal' });
  if (err.code === 'blocked')
    return translate(lang, 'account.error.blocked', { seconds: Math.ceil((err.retryAfterMs ?? 1000) / 1000) });
  if (KNOWN.has(err.code)) return translate(lang, `account.error.${err.code}` as MessageKey);
  return translate(lang, 'account.error.generic', { code: err.code });
}
