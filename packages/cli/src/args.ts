import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * Parses the arguments of `hookwarden <name>` the same way for every command: a usage mistake prints
 * the problem and the help on standard error (exit 2), `--help` prints the help (exit 0). Returns
 * the parse, or the exit code when the command stops here.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  name: string,
  help: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    process.stderr.write(`hookwarden ${name}: ${(err as Error).message}\n\n${help.trimEnd()}\n`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${help.trimEnd()}\n`);
    return 0;
  }
  return parsed;
}
