import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A fenced block of a guide. The info string's first word is the language; the words after it
 * (which renderers ignore) say how a reader uses the block:
 * - `sh` / `bash`: typed into the reader's main terminal, one after the other (state carries over);
 * - `sh server ready="text"`: started in a terminal of its own, left running; the reader goes on
 *   once it printed `text`;
 * - `file=path`: saved as `path` (relative to the folder the guide starts in);
 * - `skip`: shown only (it would reach beyond this machine).
 */
export interface GuideBlock {
  lang: string;
  body: string;
  line: number;
  server: boolean;
  ready?: string;
  file?: string;
  skip: boolean;
}

export function guideBlocks(markdown: string): GuideBlock[] {
  const blocks: GuideBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    const attrs = open[2] as string;
    const ready = /\bready="([^"]*)"/.exec(attrs)?.[1];
    const file = /\bfile=(\S+)/.exec(attrs)?.[1];
    blocks.push({
      lang: open[1] as string,
      body: `${body.join('\n')}\n`,
      line: start + 1,
      server: /(^|\s)server(\s|$)/.test(attrs),
      skip: /(^|\s)skip(\s|$)/.test(attrs),
      ...(ready === undefined ? {} : { ready }),
      ...(file === undefined ? {} : { file }),
    });
  }
  return blocks;
}

export interface GuideRun {
  /** What the main terminal printed. */
  transcript: string;
  /** What each server block printed, in the guide's order. */
  servers: { line: number; output: () => string }[];
  /** Ends the server blocks (SIGTERM to each one's process group) and waits for them. */
  stop(): Promise<void>;
}

const DONE = '__guide_block_done__';

function started(child: ChildProcess, what: string, until: (out: string) => boolean, timeoutMs: number) {
  let out = '';
  const seen = (chunk: Buffer) => {
    out += chunk.toString();
    if (until(out)) finish();
  };
  const exited = (code: number | null, signal: string | null) =>
    finish(new Error(`${what}: exited with ${code ?? signal}:\n${out}`));
  let finish: (err?: Error) => void = () => {};
  const result = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: not done after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    finish = (err) => {
      clearTimeout(timer);
      child.stdout?.off('data', seen);
      child.stderr?.off('data', seen);
      child.off('exit', exited);
      if (err) reject(err);
      else resolve();
    };
  });
  child.stdout?.on('data', seen);
  child.stderr?.on('data', seen);
  child.once('exit', exited);
  return { result, output: () => out };
}

/**
 * Does what a reader of `path` does, in `dir`: saves the `file=` blocks, starts the server blocks
 * in terminals of their own (bash, in `dir`, with `env`), and types the other shell blocks into
 * one bash session (`set -e -o pipefail`: a failing command fails the guide). Rejects with the
 * transcript when a block fails or hangs.
 */
export async function runGuide(
  paths: string[],
  dir: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<GuideRun> {
  const servers: { line: number; child: ChildProcess; output: () => string }[] = [];
  const stop = async () => {
    await Promise.all(
      servers.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            process.kill(-(child.pid as number), 'SIGTERM');
          }),
      ),
    );
  };
  const shell = spawn('bash', ['--norc', '--noprofile'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  shell.stdin.write('set -e -o pipefail\n');
  let transcript = '';
  shell.stdout.on('data', (c: Buffer) => {
    transcript += c.toString();
  });
  shell.stderr.on('data', (c: Buffer) => {
    transcript += c.toString();
  });
  try {
    for (const path of paths) {
      for (const block of guideBlocks(readFileSync(path, 'utf8'))) {
        const where = `${path}:${block.line}`;
        if (block.file !== undefined) {
          mkdirSync(dirname(join(dir, block.file)), { recursive: true });
          writeFileSync(join(dir, block.file), block.body);
          continue;
        }
        if (block.skip || !['sh', 'bash'].includes(block.lang)) continue;
        if (block.server) {
          const child = spawn('bash', ['--norc', '--noprofile', '-e', '-c', block.body], {
            cwd: dir,
            env,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const ready = block.ready;
          let out = '';
          const keep = (c: Buffer) => {
            out += c.toString();
          };
          child.stdout.on('data', keep);
          child.stderr.on('data', keep);
          servers.push({ line: block.line, child, output: () => out });
          await started(child, where, () => ready === undefined || out.includes(ready), timeoutMs).result;
          continue;
        }
        const mark = transcript.length;
        const done = started(shell, where, () => transcript.slice(mark).includes(DONE), timeoutMs);
        shell.stdin.write(`${block.body}echo ${DONE}\n`);
        await done.result.catch((err: Error) => {
          throw new Error(`${err.message.split(':\n')[0]}:\n${transcript}`);
        });
        transcript = transcript.replaceAll(`${DONE}\n`, '');
      }
    }
  } catch (err) {
    shell.kill();
    await stop();
    throw err;
  }
  shell.stdin.end();
  return { transcript, servers, stop };
}
