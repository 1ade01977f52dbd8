import { HookwardenError } from '@hookwarden/verify/errors';

/** A subcommand: `run` gets the arguments after its name and returns the exit code. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

// Loaded lazily so that `hookwarden gate` never pays for the server's dependencies; the summaries
// live here so that `hookwarden --help` loads none of them.
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  serve: {
    summary: 'run the delivery platform (API, dispatcher, trust document)',
    load: () => import('./commands/serve.ts'),
  },
  ca: {
    summary: 'certificate authority: init, show, rotate, promote, export, import',
    load: () => import('./commands/ca.ts'),
  },
  check: {
    summary: 'check whether an HTTPS endpoint can receive callbacks, and why not',
    load: () => import('./commands/check.ts'),
  },
  gate: {
    summary: 'verifying reverse proxy in front of a receiver written in any language',
    load: () => import('./commands/gate.ts'),
  },
  send: {
    summary: 'send a message through a running server and print what each endpoint answered',
    load: () => import('./commands/send.ts'),
  },
  'proxy-config': {
    summary: 'print an nginx, HAProxy or Caddy configuration that verifies the platform',
    load: () => import('./commands/proxy-config.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: hookwarden <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `hookwarden <command> --help` for a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`hookwarden: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof HookwardenError) {
      process.stderr.write(`hookwarden ${name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
