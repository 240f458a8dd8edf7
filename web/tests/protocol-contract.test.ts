// The web client's validator against the shared protocol fixtures (tests/contract/protocol/README.md);
// tests/signaling/contract_test.cpp checks the server's schemas against the same files.
import { describe, expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '../src/protocol/messages';
import { validateClientMessage, validateServerMessage } from '../src/protocol/validate';

// Vitest runs in Node; the web tsconfig has no Node types, so the one function used is typed here.
interface NodeFs {
  readFileSync(path: URL, encoding: 'utf8'): string;
}
const FS_MODULE: string = 'node:fs';
const fs = (await import(FS_MODULE)) as NodeFs;

interface Case {
  name: string;
  message: unknown;
}

/** Replaces every {"$repeat": text, "times": n} with text repeated n times. */
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 2 && typeof record['$repeat'] === 'string' && typeof record['times'] === 'number') {
    return record['$repeat'].repeat(record['times']);
  }
  return Object.fromEntries(keys.map((key) => [key, expand(record[key])]));
}

function read(file: string): unknown {
  return JSON.parse(fs.readFileSync(new URL(`../../tests/contract/protocol/${file}`, import.meta.url), 'utf8'));
}

function load(file: string): Case[] {
  const cases = (read(file) as Case[]).map((c) => ({ name: c.name, message: expand(c.message) }));
  expect(cases.length).toBeGreaterThan(0);
  return cases;
}

function typesOf(cases: Case[]): string[] {
  return [...new Set(cases.map((c) => (c.message as { type: string }).type))].sort();
}

describe('protocol contract', () => {
  it('accepts every client message the server accepts', () => {
    for (const c of load('client-to-server/accept.json')) {
      expect(validateClientMessage(c.message), c.name).toBeNull();
    }
  });

  it('rejects every client message the server rejects', () => {
    for (const c of load('client-to-server/reject.json')) {
      expect(validateClientMessage(c.message), c.name).not.toBeNull();
    }
  });

  it('accepts every server message of the accept set', () => {
    for (const c of load('server-to-client/accept.json')) {
      const result = validateServerMessage(c.message);
      expect(result.ok ? '' : result.reason, c.name).toBe('');
    }
  });

  it('rejects every server message of the reject set', () => {
    for (const c of load('server-to-client/reject.json')) {
      expect(validateServerMessage(c.message).ok, c.name).toBe(false);
    }
  });

  it('covers every message type in the accept sets', () => {
    expect(typesOf(load('client-to-server/accept.json'))).toEqual(
      [
        'hello',
        'join',
        'update-profile',
        'leave',
        'ping',
        'publish',
        'subscribe-answer',
        'subscribe-restart',
        'relay',
        'file-upload',
        'turn-refresh',
        'set-settings',
        'admit',
        'deny',
        'set-role',
        'mute',
        'request-unmute',
        'unmute',
        'remove',
        'end-meeting',
        'move-meeting',
        'get-security-log',
        'video-preferences',
        'privacy-receipt',
      ].sort(),
    );
    expect(typesOf(load('server-to-client/accept.json'))).toEqual(
      [
        'welcome',
        'joined',
        'participant-joined',
        'participant-updated',
        'participant-left',
        'profile-updated',
        'left',
        'pong',
        'goodbye',
        'error',
        'publish-answer',
        'subscribe-ok',
        'subscribe-offer',
        'media-failed',
        'relayed',
        'relay',
        'file-upload-ready',
        'turn-credentials',
        'waiting',
        'lobby',
        'settings',
        'role',
        'settings-updated',
        'admitted',
        'denied',
        'role-set',
        'muted',
        'unmute-requested',
        'unmuted',
        'removed',
        'ended',
        'meeting-moved',
        'security-log',
        'muted-by-host',
        'unmute-request',
        'privacy-receipt',
      ].sort(),
    );
  });

  it('knows every error code the server sends', () => {
    expect([...SERVER_ERROR_CODES].sort()).toEqual((read('error-codes.json') as string[]).sort());
  });
});
