import { expect, test } from 'vitest';
import { redactUrl, safeError, safeMessage, urlPassword } from './connectionString.ts';

const url = 'postgresql://alice:s3cr%40t-pw@db.example.org:5432/custody?sslmode=verify-full';

test('connection strings are shown without their password', () => {
  expect(redactUrl(url)).toBe('postgresql://alice:***@db.example.org:5432/custody?sslmode=verify-full');
  expect(redactUrl('postgres://h/db?user=a&password=hunter2&x=1')).toBe('postgres://h/db?user=a&password=***&x=1');
  expect(redactUrl('postgresql://alice@h/db')).toBe('postgresql://alice@h/db');
  expect(urlPassword(url)).toBe('s3cr@t-pw');
});

test('driver errors lose any copy of the password or the URL', () => {
  const e = new Error(`could not connect with s3cr@t-pw to ${url} (also s3cr%40t-pw)`);
  const m = safeMessage(e, url);
  expect(m).not.toContain('s3cr');
  expect(m).toContain('postgresql://alice:***@db.example.org');
  const wrapped = safeError(e, url, 'cannot connect');
  expect(wrapped.message).not.toContain('s3cr');
  expect(wrapped.message).toMatch(/^cannot connect \(postgresql:\/\/alice:\*\*\*@db\.example\.org/);
});
