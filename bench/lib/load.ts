/**
 * A closed-loop load: `concurrency` workers each send the next request as soon as their last one is
 * answered, until `total` have been sent. Returns requests per second and this process's CPU time per
 * request (client and in-process receiver together). A failed request fails the run: a rate of
 * failures measures nothing.
 */
export async function drive(
  total: number,
  concurrency: number,
  send: () => Promise<boolean>,
): Promise<{ rate: number; cpuUs: number }> {
  let next = 0;
  let failures = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        if (!(await send())) failures++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (failures > 0) throw new Error(`${failures} requests failed`);
  return { rate: total / seconds, cpuUs: (used.user + used.system) / total };
}
