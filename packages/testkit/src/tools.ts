import { spawnSync } from 'node:child_process';

const found = new Map<string, string | undefined>();

/** The absolute path of an executable on PATH (or in /usr/sbin, where Debian puts nginx), if any. */
export function which(tool: string): string | undefined {
  if (!found.has(tool)) {
    const r = spawnSync('sh', ['-c', `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], { encoding: 'utf8' });
    const path = r.stdout.trim().split('\n')[0];
    found.set(tool, r.status === 0 && path ? path : undefined);
  }
  return found.get(tool);
}

/**
 * For `test(name, { skip: needTools('nginx') }, ...)`: false when every tool is installed, else the
 * reason to skip. Under CI=true a missing tool is a failure, never a skip: it throws.
 */
export function needTools(...tools: string[]): false | string {
  const missing = tools.filter((t) => which(t) === undefined);
  if (missing.length === 0) return false;
  const reason = `missing tool(s): ${missing.join(', ')} (run .ci/install-tools)`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must not skip`);
  return reason;
}
