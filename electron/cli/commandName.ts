// The name of the command a CLI process runs, as its audit session records it: the words of the
// command path ("list", "audit verify", "sync now"), never an argument or option value.
import type { Command } from 'commander';

export function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
