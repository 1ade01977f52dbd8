import { HookwardenError } from '@hookwarden/verify/errors';

/** A subcommand: `run` gets the arguments after its name and returns the exit code. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

// Loaded lazily so that `hookwarden gate` never pays for the server's dependencies.
const commands: Record<string, () => Promise<{ command: Command }>> = {
  ca: () => import('./commands/ca.ts'),
  gate: () => import('./commands/gate.ts'),
  'proxy-config': () => import('./commands/proxy-config.ts'),
  serve: () => import('./commands/serve.ts'),
};

function usage(): string {
  const lines = Object.keys(commands)
    .sort()
    .map((name) => `  ${name}`);
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
  const load = commands[name];
  if (!load) {
    process.stderr.write(`hookwarden: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    const { command } = await load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof HookwardenError) {
      process.stderr.write(`hookwarden ${name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
