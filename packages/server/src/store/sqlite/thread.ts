import { Worker } from 'node:worker_threads';

/**
 * Starts one of this folder's modules on its own thread. Run from TypeScript sources (tsx), the
 * thread registers the same loader before importing it; built, it imports the JavaScript.
 */
export function startThread(name: string, workerData: unknown): Worker {
  const entry = new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  const source = entry.endsWith('.ts')
    ? `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(entry)});`
    : `await import(${JSON.stringify(entry)});`;
  return new Worker(source, { eval: true, workerData });
}
