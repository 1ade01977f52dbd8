import { type Html, html } from './html.ts';

export interface Series {
  label: string;
  values: readonly number[];
}

const W = 480;
const H = 190;
const PAD = { left: 44, right: 10, top: 12, bottom: 24 };

/** A round upper bound for the y axis (1, 2 or 5 times a power of ten). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((m) => m * step >= max) ?? 10) * step;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * A line chart as inline SVG, drawn on the server (no script, no chart library): up to three
 * series over the same buckets, its numbers also in a table for those who do not see the lines.
 */
export function lineChart(o: {
  id: string;
  title: string;
  unit: string;
  starts: readonly number[];
  series: readonly Series[];
}): Html {
  const n = o.starts.length;
  const max = niceMax(Math.max(0, ...o.series.flatMap((s) => s.values)));
  const x = (i: number) => PAD.left + (n <= 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const ticks = [0, max / 2, max];
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  const paths = o.series.map((s, k) => {
    const d = s.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return html`<path class="s${k + 1}" d="${d}"></path>`;
  });
  const last = (s: Series) => s.values[s.values.length - 1] ?? 0;
  return html`<figure class="card" aria-labelledby="${o.id}-title">
    <figcaption id="${o.id}-title"><strong>${o.title}</strong> <span class="muted">(${o.unit})</span></figcaption>
    <svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-title ${o.id}-desc">
      <desc id="${o.id}-desc">${o.series.map((s) => `${s.label}: ${last(s)} in the last bucket, at most ${Math.max(0, ...s.values)}`).join('; ')}.</desc>
      ${ticks.map(
        (t) => html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t)}" y2="${y(t)}"></line>
        <text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end">${formatNumber(t)}</text>`,
      )}
      <line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}"></line>
      ${o.starts.map((s, i) => (i % labelEvery === 0 ? html`<text x="${x(i)}" y="${H - 6}" text-anchor="middle">${clock(s)}</text>` : ''))}
      ${paths}
    </svg>
    <ul class="legend">${o.series.map((s, k) => html`<li><span class="key k${k + 1}"></span>${s.label}</li>`)}</ul>
    <details><summary>The numbers</summary><div class="scroll"><table>
      <caption class="visually-hidden">${o.title}</caption>
      <thead><tr><th scope="col">From (UTC)</th>${o.series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
      <tbody>${o.starts.map((s, i) => html`<tr><td>${clock(s)}</td>${o.series.map((ser) => html`<td>${formatNumber(ser.values[i] ?? 0)}</td>`)}</tr>`)}</tbody>
    </table></div></details>
  </figure>`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1);
}
