// A PostgreSQL SCRAM-SHA-256 password verifier (RFC 5802 and RFC 7677, in the form
// PostgreSQL stores and accepts in CREATE ROLE ... PASSWORD, as libpq's
// PQencryptPasswordConn builds it):
//   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations), ClientKey =
// HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(ClientKey), ServerKey =
// HMAC(SaltedPassword, "Server Key"). Passwords here are generated ASCII, which SASLprep
// leaves unchanged.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
