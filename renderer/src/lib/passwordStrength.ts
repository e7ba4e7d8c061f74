// A quick, local strength hint (no dictionary download): length dominates, variety helps,
// obvious patterns hurt. It is advice, not a gate — the vault enforces only the minimum length.
export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  label: 'Too short' | 'Weak' | 'Fair' | 'Good' | 'Strong';
  hint: string;
}

const COMMON = /^(password|passw0rd|letmein|qwerty|azerty|123456|admin|welcome|iloveyou|custody)/i;

export function passwordStrength(pw: string): Strength {
  if (pw.length < 8) return { score: 0, label: 'Too short', hint: 'Use at least 8 characters; a passphrase of 4–5 random words is best.' };
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  const words = pw.trim().split(/[\s\-_.]+/).filter((w) => w.length >= 3).length;
  let points = Math.min(pw.length, 24) / 4 + classes + (words >= 4 ? 3 : 0);
  if (COMMON.test(pw) || /(.)\1{3,}/.test(pw) || /(0123|1234|2345|3456|4567|5678|6789|abcd)/i.test(pw)) points -= 4;
  if (points < 5) return { score: 1, label: 'Weak', hint: 'Easy to guess. Make it longer, or use several unrelated words.' };
  if (points < 7) return { score: 2, label: 'Fair', hint: 'Could be longer. Adding a word or two helps more than symbols.' };
  if (points < 9) return { score: 3, label: 'Good', hint: 'Good. Longer is still better for a password that protects evidence.' };
  return { score: 4, label: 'Strong', hint: 'Strong password.' };
}
