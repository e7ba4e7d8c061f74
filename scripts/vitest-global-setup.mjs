// Builds the CLI before the tests that spawn it, so they never run a stale build; a build that
// is already newer than every source is kept. Safe with two test runs in one checkout: each
// build goes to its own folder and out/cli is switched to it atomically (build-cli.mjs).
import { buildCli } from './build-cli.mjs';

export default function setup() {
  buildCli();
}
