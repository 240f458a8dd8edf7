// The room secret leaves the address bar as soon as the page has read it. The fragment never
// reaches the server, but it stays visible on screen (screen sharing, shoulders), in the browser
// history, in synced history and in session restore. The page keeps the secret in memory only;
// the invite link stays available in the meeting view for sharing. A reload therefore needs the
// link again.

import { parseRoomLocation } from '../protocol/invite';

/** The part of window.history this needs (tests pass a fake). */
export interface HistoryLike {
  readonly state: unknown;
  replaceState(data: unknown, unused: string, url?: string | URL | null): void;
}

/** What the address says, with the secret of a room page read once and then remembered. */
export class AddressSecrets {
  /** roomId -> secret, for this page load only. */
  private readonly mSecrets = new Map<string, string>();

  constructor(private readonly mHistory: HistoryLike) {}

  /** A room this page moved to (its address has no fragment): the secret to use for it. */
  remember(roomId: string, secret: string): void {
    this.mSecrets.set(roomId, secret);
  }

  /**
   * The fragment to use for this address. A room address with a valid secret: the secret is
   * remembered and removed from the address bar and the current history entry (replaceState, so
   * no entry with the secret remains). A room address without a fragment whose secret this page
   * read before: that secret.
   */
  read(pathname: string, search: string, hash: string): string {
    const link = parseRoomLocation(pathname, hash);
    if (link.ok) {
      this.mSecrets.set(link.roomId, link.secret);
      this.mHistory.replaceState(this.mHistory.state, '', `${pathname}${search}`);
      return hash;
    }
    if (hash === '' || hash === '#') {
      const roomId = /^\/r\/([^/]*)\/?$/.exec(pathname)?.[1];
      const secret = roomId === undefined ? undefined : this.mSecrets.get(roomId);
      if (secret !== undefined) return `#${secret}`;
    }
    return hash;
  }
}
