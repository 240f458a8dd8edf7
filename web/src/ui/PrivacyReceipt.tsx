// "What the server knows about this meeting": the privacy receipt (docs/privacy.md), as the
// server signed it, shown readably and offered as a download (the signed JSON, which
// `conclave verify-receipt` checks). Every member may open it; nothing here is fetched from
// anywhere but the meeting's own signaling connection.
import { useState } from 'preact/hooks';
import type { ReceiptSignature } from '../protocol/messages';
import type { MeetingSession, RosterEntry } from '../session';
import { Disclosure, logTypeText, useAction } from './HostControls';
import { useLang } from './lang';
import { displayName } from './Security';

export interface SignedReceipt {
  receipt: Record<string, unknown>;
  signature: ReceiptSignature;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(obj) : [];
}
function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function when(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toLocaleString();
}

/** The file a receipt is saved as: the signed form, `{ receipt, signature }`. */
export function receiptFile(signed: SignedReceipt): { name: string; json: string } {
  const at = num(signed.receipt['generatedAt']) ?? 0;
  return {
    name: `conclave-privacy-receipt-${new Date(at).toISOString().replace(/[:.]/g, '-')}.json`,
    json: `${JSON.stringify({ receipt: signed.receipt, signature: signed.signature }, null, 2)}\n`,
  };
}

export function ReceiptView({ signed, roster }: { signed: SignedReceipt; roster: RosterEntry[] }) {
  const { t } = useLang();
  const r = signed.receipt;
  const people = obj(r['participants']);
  const addresses = obj(r['addresses']);
  const files = obj(r['files']);
  const log = obj(r['securityLog']);
  const serverLog = obj(r['serverLog']);
  const encryption = obj(r['encryption']);
  const retention = obj(r['retention']);
  const nameOf = (id: string): string => {
    const entry = roster.find((e) => e.id === id);
    return entry ? displayName(entry, t) : t('log.someone', { id: id.slice(0, 6) });
  };
  const byType = Object.entries(obj(log['byType']));
  const lines = Object.entries(obj(serverLog['linesAboutMeeting']));
  const unencrypted = Array.isArray(encryption['unencrypted']) ? encryption['unencrypted'].length : 0;
  return (
    <div class="stack receipt" data-testid="receipt-view">
      <p class="hint">
        {t('receipt.generated', { at: when(num(r['generatedAt'])), version: text(obj(r['server'])['version']) })}
      </p>
      <section aria-labelledby="receipt-people">
        <h4 id="receipt-people">{t('receipt.people', { count: num(people['count']) ?? 0 })}</h4>
        <p class="hint">{t('receipt.peopleHint')}</p>
        <ul data-testid="receipt-participants" data-count={num(people['count']) ?? 0}>
          {list(people['present']).map((p) => (
            <li key={text(p['id'])}>
              {nameOf(text(p['id']))} · <code>{text(p['id'])}</code> · {text(p['role'])} ·{' '}
              {t('receipt.joinedAt', { at: when(num(p['joinedAt'])) })}
            </li>
          ))}
        </ul>
        {(num(people['waitingInLobby']) ?? 0) > 0 && (
          <p>{t('receipt.waiting', { count: num(people['waitingInLobby']) ?? 0 })}</p>
        )}
      </section>
      <section aria-labelledby="receipt-addresses">
        <h4 id="receipt-addresses">{t('receipt.addresses')}</h4>
        <p>{t('receipt.addressesMemory')}</p>
        <p>{t('receipt.addressesAfter', { seconds: num(addresses['mediaConsentTimeoutSeconds']) ?? 0 })}</p>
        <p>{addresses['logged'] === true ? t('receipt.addressesLogged') : t('receipt.addressesNotLogged')}</p>
      </section>
      <section aria-labelledby="receipt-files">
        <h4 id="receipt-files">{t('receipt.files', { count: num(files['count']) ?? 0 })}</h4>
        <p class="hint">{t('receipt.filesHint')}</p>
        <ul
          data-testid="receipt-files"
          data-count={num(files['count']) ?? 0}
          data-bytes={num(files['totalBytes']) ?? 0}
        >
          {list(files['stored']).map((f, i) => (
            <li key={i} data-testid="receipt-file" data-size={num(f['size']) ?? 0}>
              {t('receipt.file', {
                size: num(f['size']) ?? 0,
                stored: when(num(f['storedAt'])),
                deleted: num(f['deleteAt']) === null ? t('receipt.atMeetingEnd') : when(num(f['deleteAt'])),
              })}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="receipt-log">
        <h4 id="receipt-log">{t('receipt.log', { count: num(log['entries']) ?? 0 })}</h4>
        <p class="hint">{t('receipt.logHint', { days: num(log['retentionDays']) ?? 0 })}</p>
        {byType.length > 0 && (
          <ul data-testid="receipt-log">
            {byType.map(([type, count]) => (
              <li key={type}>
                {logTypeText(type, t)}: {String(count)}
              </li>
            ))}
          </ul>
        )}
        {num(log['newestDeletedAfter']) !== null && (
          <p>{t('receipt.logUntil', { at: when(num(log['newestDeletedAfter'])) })}</p>
        )}
      </section>
      <section aria-labelledby="receipt-serverlog">
        <h4 id="receipt-serverlog">{t('receipt.serverLog')}</h4>
        <p class="hint">{t('receipt.serverLogHint', { level: text(serverLog['level']) })}</p>
        <ul data-testid="receipt-serverlog">
          {lines.map(([kind, count]) => (
            <li key={kind}>
              {kind}: {String(count)}
            </li>
          ))}
          {lines.length === 0 && <li>{t('receipt.none')}</li>}
        </ul>
      </section>
      <section aria-labelledby="receipt-encryption">
        <h4 id="receipt-encryption">{t('receipt.encryption')}</h4>
        <p data-testid="receipt-e2ee">{encryption['endToEnd'] === true ? t('receipt.e2eeOn') : t('receipt.e2eeOff')}</p>
        <p>{unencrypted === 0 ? t('receipt.nothingUnencrypted') : t('receipt.somethingUnencrypted')}</p>
        <p class="hint">{t('receipt.clientSuite')}</p>
        <ul>
          {list(obj(r['media'])['transports']).map((m, i) => (
            <li key={i}>
              {nameOf(text(m['participantId']))} · {text(m['direction'])} · {text(m['srtpProfile'])}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="receipt-retention">
        <h4 id="receipt-retention">{t('receipt.retention')}</h4>
        <ul>
          <li>{t('receipt.retentionRoom', { seconds: num(retention['roomGraceSeconds']) ?? 0 })}</li>
          <li>
            {(num(retention['fileRetentionSeconds']) ?? 0) > 0
              ? t('receipt.retentionFiles', { seconds: num(retention['fileRetentionSeconds']) ?? 0 })
              : t('receipt.retentionFilesEnd')}
          </li>
          <li>{t('receipt.retentionLog', { days: num(retention['securityLogRetentionDays']) ?? 0 })}</li>
          <li>{t('receipt.retentionSettings', { days: num(retention['meetingSettingsRetentionDays']) ?? 0 })}</li>
        </ul>
      </section>
      <p class="hint" data-testid="receipt-fingerprint">
        {t('receipt.signed', { fingerprint: signed.signature.fingerprint })}
      </p>
    </div>
  );
}

export function PrivacyReceiptPanel({ session, roster }: { session: MeetingSession; roster: RosterEntry[] }) {
  const { t } = useLang();
  const [signed, setSigned] = useState<SignedReceipt | null>(null);
  const [error, run] = useAction();
  const [download, setDownload] = useState<{ url: string; name: string } | null>(null);
  const load = (): void => {
    void run(async () => {
      const result = await session.privacyReceipt();
      setSigned(result);
      const file = receiptFile(result);
      setDownload((old) => {
        if (old) URL.revokeObjectURL(old.url);
        return { url: URL.createObjectURL(new Blob([file.json], { type: 'application/json' })), name: file.name };
      });
    });
  };
  return (
    <Disclosure label={t('receipt.open')} testId="receipt-button" onOpen={load}>
      <div class="stack" data-testid="receipt">
        <h3>{t('receipt.title')}</h3>
        <div class="actions">
          <button type="button" class="button secondary small" data-testid="receipt-refresh" onClick={load}>
            {t('log.refresh')}
          </button>
          {download !== null && (
            <a class="button primary small" href={download.url} download={download.name} data-testid="receipt-download">
              {t('receipt.download')}
            </a>
          )}
        </div>
        {error !== null && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        {signed !== null && <ReceiptView signed={signed} roster={roster} />}
      </div>
    </Disclosure>
  );
}
