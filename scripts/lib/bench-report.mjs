// Reports for scripts/bench.mjs: medians over rounds, the ours/Go Markdown table, the JSON of raw
// numbers and an SVG chart of throughput by object size (hand-written SVG, no dependencies).

export const METRICS = [
  { key: "rps", label: "req/s", better: "higher", digits: 0 },
  { key: "mbps", label: "MB/s", better: "higher", digits: 1 },
  { key: "p50ms", label: "p50 ms", better: "lower", digits: 2 },
  { key: "p99ms", label: "p99 ms", better: "lower", digits: 2 },
  { key: "cpuUsPerReq", label: "CPU µs/req", better: "lower", digits: 1 },
  { key: "peakRssMb", label: "peak RSS MB", better: "lower", digits: 0 },
];

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function formatNumber(x, digits) {
  if (!Number.isFinite(x)) return "–";
  if (digits === 0 || Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en");
  // Small values keep two significant digits at least.
  const d = Math.abs(x) > 0 && Math.abs(x) < 0.1 ? Math.max(digits, 3) : digits;
  return x.toFixed(d);
}

export function formatRatio(x) {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : "–";
}

/** "read 1 KB ×16", and ", 1 core" for a row whose server was pinned to one processor. */
export function rowLabel(row) {
  const base = `${row.workload} ${sizeLabel(row.size)} ×${row.connections}`;
  return row.cores ? `${base}, ${row.cores} core${row.cores > 1 ? "s" : ""}` : base;
}

export function sizeLabel(bytes) {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}

/**
 * Folds per-round results into rows with medians and ratios. `runs`: { go: [round], ours: [round] },
 * each round { rows: { [id]: metrics }, weedBenchmark }. `rowDefs`: [{ id, workload, size, connections }].
 */
export function summarize(rowDefs, runs) {
  const rows = rowDefs.map((def) => {
    const row = { ...def, sizeLabel: sizeLabel(def.size), label: rowLabel(def) };
    for (const kind of ["go", "ours"]) {
      const rounds = (runs[kind] ?? []).map((r) => r.rows[def.id]).filter(Boolean);
      if (rounds.length === 0) continue;
      const med = {};
      for (const m of METRICS) med[m.key] = median(rounds.map((r) => r[m.key]));
      med.errors = rounds.reduce((a, r) => a + r.errors, 0);
      med.clientCpuPct = median(rounds.map((r) => r.clientCpuPct));
      row[kind] = { median: med, rounds };
    }
    if (row.go && row.ours) {
      row.ratio = {};
      for (const m of METRICS) row.ratio[m.key] = row.ours.median[m.key] / row.go.median[m.key];
    }
    return row;
  });
  const weedBenchmark = {};
  for (const kind of ["go", "ours"]) {
    const rounds = (runs[kind] ?? []).map((r) => r.weedBenchmark).filter(Boolean);
    if (rounds.length === 0) continue;
    weedBenchmark[kind] = {
      median: {
        writeRps: median(rounds.map((r) => r.write?.rps)),
        readRps: median(rounds.map((r) => r.read?.rps)),
        writeFailed: rounds.reduce((a, r) => a + (r.write?.failed ?? 0), 0),
        readFailed: rounds.reduce((a, r) => a + (r.read?.failed ?? 0), 0),
      },
      rounds,
    };
  }
  if (weedBenchmark.go && weedBenchmark.ours) {
    weedBenchmark.ratio = {
      writeRps: weedBenchmark.ours.median.writeRps / weedBenchmark.go.median.writeRps,
      readRps: weedBenchmark.ours.median.readRps / weedBenchmark.go.median.readRps,
    };
  }
  return { rows, weedBenchmark };
}

/** A Markdown table: the first `textColumns` columns left-aligned, the rest (numbers) right. */
export function table(header, lines, textColumns = 1) {
  const rule = header.map((_, i) => (i < textColumns ? "---" : "---:")).join(" | ");
  const out = [`| ${header.join(" | ")} |`, `| ${rule} |`];
  for (const l of lines) out.push(`| ${l.join(" | ")} |`);
  return out.join("\n");
}

/** The Markdown report: the main table (rows = workloads; per metric Go, ours, ratio) and weed benchmark. */
export function markdown(summary, meta) {
  const parts = [];
  parts.push(`# Volume server benchmark: ours vs Go \`weed volume\``);
  parts.push("");
  parts.push(
    [
      `${meta.date} · ${meta.machine} · ours on Node.js ${meta.node} · weed ${meta.weedVersion} · ours at ${meta.commit}`,
      `load: ${meta.loadGenerator}; ${meta.seconds} s a row after a ${meta.warmup} s warm-up; ` +
        `${meta.rounds} round(s); in each, for every object size, a fresh Go server then a fresh one of ours ` +
        "(or the other way round, alternating), same flags; medians over rounds quoted; ratio = ours / Go.",
      `Writes are raw POST bodies (application/octet-stream) to fresh keys of ranges reserved with ` +
        `/dir/assign?count=N; reads are random GETs of ${meta.readObjectsNote}; mix is ` +
        `${meta.readPercent}% reads / ${100 - meta.readPercent}% writes. MB = 10^6 bytes of object payload. ` +
        "Before every row dirty pages are written back (sync); before a write row the page cache is also " +
        "dropped (as root), so each server's writes start from the same memory state.",
      `CPU and peak RSS are the volume server process's (/proc/<pid>/stat utime+stime; VmHWM reset ` +
        "per row and VmRSS sampled every 100 ms); CPU µs/req is that CPU time over the requests answered, " +
        "the figure that moves least from one machine to another.",
      ...(meta.perCoreNote ? [meta.perCoreNote] : []),
    ].join("  \n"),
  );
  parts.push("");
  const header = ["workload"];
  for (const m of METRICS) header.push(`${m.label} Go`, `${m.label} ours`, "ratio");
  header.push("errors Go/ours");
  const lines = summary.rows.map((row) => {
    const cells = [row.label];
    for (const m of METRICS) {
      cells.push(
        formatNumber(row.go?.median[m.key], m.digits),
        formatNumber(row.ours?.median[m.key], m.digits),
        formatRatio(row.ratio?.[m.key]),
      );
    }
    cells.push(`${row.go?.median.errors ?? "–"}/${row.ours?.median.errors ?? "–"}`);
    return cells;
  });
  parts.push(table(header, lines));
  parts.push("");
  parts.push(
    "Higher is better for req/s and MB/s (ratio > 1 means ours is faster); lower is better for " +
      "latency, CPU and memory (ratio < 1 means ours uses less).",
  );
  const busy = summary.rows.filter((r) =>
    ["go", "ours"].some((k) => (r[k]?.median.clientCpuPct ?? 0) > 90 * meta.clientThreads),
  );
  if (busy.length) {
    parts.push("");
    parts.push(
      `Load generator near saturation (> 90% CPU a thread) in: ${busy
        .map((r) => r.label)
        .join(", ")}: those rows may understate the faster server.`,
    );
  }
  const wb = summary.weedBenchmark;
  if (wb.go || wb.ours) {
    parts.push("");
    parts.push(`## \`weed benchmark\` through the master`);
    parts.push("");
    parts.push(meta.weedBenchmarkNote);
    parts.push("");
    const f = (x) => formatNumber(x, 0);
    parts.push(
      table(
        ["phase", "req/s Go", "req/s ours", "ratio", "failed Go", "failed ours"],
        [
          [
            "write",
            f(wb.go?.median.writeRps),
            f(wb.ours?.median.writeRps),
            formatRatio(wb.ratio?.writeRps),
            String(wb.go?.median.writeFailed ?? "–"),
            String(wb.ours?.median.writeFailed ?? "–"),
          ],
          [
            "read",
            f(wb.go?.median.readRps),
            f(wb.ours?.median.readRps),
            formatRatio(wb.ratio?.readRps),
            String(wb.go?.median.readFailed ?? "–"),
            String(wb.ours?.median.readFailed ?? "–"),
          ],
        ],
      ),
    );
  }
  if (meta.notes?.length) {
    parts.push("");
    parts.push("## Notes");
    parts.push("");
    for (const n of meta.notes) parts.push(`- ${n}`);
  }
  return `${parts.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// SVG: one panel a workload, object size on the x axis, MB/s on a log y axis, a line a server and
// concurrency.

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function tickLabel(v) {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

export function throughputSvg(all, meta) {
  // The chart compares the servers on the whole machine; rows pinned to one core are tabled only.
  const summary = { ...all, rows: all.rows.filter((r) => !r.cores) };
  const workloads = [...new Set(summary.rows.map((r) => r.workload))];
  const sizes = [...new Set(summary.rows.map((r) => r.size))].sort((a, b) => a - b);
  const conns = [...new Set(summary.rows.map((r) => r.connections))].sort((a, b) => a - b);
  const values = [];
  for (const r of summary.rows) for (const k of ["go", "ours"]) if (r[k]) values.push(r[k].median.mbps);
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive, 10)));

  const panelW = 300;
  const panelH = 240;
  const margin = { left: 96, right: 16, top: 84, bottom: 84 };
  const gap = 28;
  const width = margin.left + workloads.length * panelW + (workloads.length - 1) * gap + margin.right;
  const height = margin.top + panelH + margin.bottom;
  const colors = { go: "#1f77b4", ours: "#e6550d" };
  const dashes = (c) => (c === conns[conns.length - 1] ? "" : ' stroke-dasharray="6 4"');
  const y = (v) =>
    margin.top + panelH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * panelH;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-labelledby="bench-title">`,
    `<title id="bench-title">Throughput by object size, ours and Go's weed volume</title>`,
  );
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Throughput by object size: ours vs Go weed volume (MB/s, log scale)</text>`,
  );
  out.push(
    `<text x="${width / 2}" y="42" text-anchor="middle" fill="#555">${esc(`${meta.date} · ${meta.machine} · ${meta.loadGenerator} · medians of ${meta.rounds} round(s), ${meta.seconds} s rows`)}</text>`,
  );
  workloads.forEach((workload, wi) => {
    const x0 = margin.left + wi * (panelW + gap);
    const x = (size) =>
      sizes.length === 1
        ? x0 + panelW / 2
        : x0 + 20 + (sizes.indexOf(size) / (sizes.length - 1)) * (panelW - 40);
    out.push(
      `<rect x="${x0}" y="${margin.top}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`,
    );
    out.push(
      `<text x="${x0 + panelW / 2}" y="${margin.top - 8}" text-anchor="middle" font-weight="bold">${esc(workload)}</text>`,
    );
    for (let t = lo; t <= hi * 1.0001; t *= 10) {
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
      if (wi === 0) {
        out.push(`<text x="${x0 - 6}" y="${y(t) + 4}" text-anchor="end">${tickLabel(t)}</text>`);
      }
    }
    for (const s of sizes) {
      out.push(
        `<text x="${x(s)}" y="${margin.top + panelH + 18}" text-anchor="middle">${esc(sizeLabel(s))}</text>`,
      );
      // ours/Go MB/s ratio at the highest concurrency, under each size.
      const r = summary.rows.find(
        (row) => row.workload === workload && row.size === s && row.connections === conns[conns.length - 1],
      );
      if (r?.ratio) {
        const good = r.ratio.mbps >= 1;
        out.push(
          `<text x="${x(s)}" y="${margin.top + panelH + 34}" text-anchor="middle" font-size="11" fill="${good ? "#2a7d2a" : "#b03030"}">${formatRatio(r.ratio.mbps)}</text>`,
        );
      }
    }
    if (wi === 0 && summary.rows.some((r) => r.ratio)) {
      out.push(
        `<text x="${x0 - 6}" y="${margin.top + panelH + 34}" text-anchor="end" font-size="11" fill="#555">ours/Go ×${conns[conns.length - 1]}</text>`,
      );
    }
    for (const kind of ["go", "ours"]) {
      for (const c of conns) {
        const pts = summary.rows
          .filter((r) => r.workload === workload && r.connections === c && r[kind])
          .map((r) => ({ size: r.size, v: r[kind].median.mbps }))
          .filter((p) => Number.isFinite(p.v) && p.v > 0)
          .sort((a, b) => a.size - b.size);
        if (pts.length === 0) continue;
        const d = pts.map((p, i) => `${i ? "L" : "M"}${x(p.size).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
        out.push(`<path d="${d}" fill="none" stroke="${colors[kind]}" stroke-width="2"${dashes(c)}/>`);
        for (const p of pts) {
          out.push(
            `<circle cx="${x(p.size).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3.5" fill="${colors[kind]}"><title>${esc(`${kind} ${workload} ${sizeLabel(p.size)} ×${c}: ${p.v.toFixed(1)} MB/s`)}</title></circle>`,
          );
        }
      }
    }
  });
  if (workloads.length) {
    out.push(
      `<text x="${margin.left - 56}" y="${margin.top + panelH / 2}" text-anchor="middle" transform="rotate(-90 ${margin.left - 56} ${margin.top + panelH / 2})">MB/s</text>`,
    );
  }
  // Legend.
  let lx = margin.left;
  const ly = margin.top + panelH + 62;
  for (const kind of ["go", "ours"]) {
    for (const c of conns) {
      out.push(
        `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${colors[kind]}" stroke-width="2"${dashes(c)}/>`,
      );
      const label = `${kind === "go" ? "Go weed volume" : "ours"}, ${c} clients`;
      out.push(`<text x="${lx + 34}" y="${ly + 4}">${esc(label)}</text>`);
      lx += 34 + label.length * 7 + 24;
    }
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
