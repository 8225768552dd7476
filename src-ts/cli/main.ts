#!/usr/bin/env node
// The `zarrs-node` command line. Each command lives in its own module and registers itself on
// the program; this file parses the command line and turns usage errors into exit code 2.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { consolidateCommand } from './consolidate.js';
import { convertCommand } from './convert.js';
import { infoCommand } from './info.js';
import { EXIT_OK, EXIT_USAGE, printError } from './output.js';
import { verifyCommand } from './verify.js';

// a reader that stops early (`zarrs-node info s | head`) is not a failure
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
  throw e;
});

const COMMANDS: ((program: Command) => void)[] = [convertCommand, infoCommand, consolidateCommand, verifyCommand];

function version(): string {
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

const program = new Command('zarrs-node')
  .description('Convert, inspect, consolidate and compare AnnData and Zarr stores (any path or store URL)')
  .version(version())
  .exitOverride()
  // usage errors are printed by the catch below, in the CLI's one-line (or JSON) form; stderr
  // only ever gets commander's help after an error (`--help` itself goes to stdout)
  .configureOutput({ outputError: () => {}, writeErr: () => {} })
  .showHelpAfterError(false);
for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) throw e;
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
    process.exitCode = EXIT_OK;
  } else {
    // `zarrs-node` alone prints the help (on stderr) and is a usage error too
    const message = e.code === 'commander.help' ? 'a command is required' : e.message.replace(/^error: /, '');
    printError({ code: 'Usage', message: `${message} (see zarrs-node --help)` }, process.argv.includes('--json'));
    process.exitCode = EXIT_USAGE;
  }
}
