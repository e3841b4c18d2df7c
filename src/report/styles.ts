/** The report's only stylesheet, inlined so the file opens from disk with nothing fetched. */
export const css = `
:root { --pass:#15803d; --fail:#b91c1c; --missing:#a16207; --unknown:#6d28d9; --ungraded:#64748b; --ink:#0f172a; --muted:#475569; --line:#e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f1f5f9; }
main { max-width: 1080px; margin: 0 auto; padding: 24px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { margin: 0 0 6px; font-size: 17px; }
h4 { margin: 14px 0 6px; font-size: 14px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
section, article { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 12px 0; }
.meta { color: var(--muted); margin: 0; }
.badge { display: inline-block; min-width: 64px; padding: 1px 8px; border-radius: 999px; color: #fff; font-size: 12px; font-weight: 700; text-align: center; vertical-align: middle; }
.badge.pass, .badge.passed { background: var(--pass); }
.badge.fail, .badge.failed { background: var(--fail); }
.badge.missing, .badge.skipped, .badge.todo, .badge.pending { background: var(--missing); }
.badge.inconclusive { background: var(--unknown); } .badge.not-graded { background: var(--ungraded); }
.badge.mode { background: #334155; }
.counts { display: flex; gap: 16px; margin: 8px 0 16px; }
.count { flex: 1; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--line); }
.count b { display: block; font-size: 28px; }
.count.pass b, .count.passed b { color: var(--pass); } .count.fail b, .count.failed b { color: var(--fail); }
.count.missing b, .count.skipped b, .count.todo b, .count.pending b { color: var(--missing); }
.verdict { margin: 10px 0; padding: 10px 14px; border-radius: 8px; color: #fff; font-size: 17px; font-weight: 700; }
.verdict.passed { background: var(--pass); }
.verdict.failed { background: var(--fail); }
.verdict a { color: #fff; }
#summary h3 { margin-top: 18px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f8fafc; }
td code, .rule { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.matrix td { text-align: center; font-weight: 700; }
.matrix .reach { color: var(--pass); } .matrix .block { color: var(--muted); }
.matrix .mismatch { background: #fee2e2; color: var(--fail); }
.diagram { width: 100%; height: auto; }
.chart { display: block; max-width: 100%; height: auto; margin: 6px 0 12px; }
.traffic td:first-child, .traffic tr.offpath td { white-space: nowrap; }
.traffic td:nth-child(n+4) { text-align: right; font-variant-numeric: tabular-nums; }
.traffic tr.offpath td { color: var(--muted); }
.traffic tr.mismatch td { background: #fee2e2; color: var(--fail); }
.failures li { margin: 4px 0; }
article.fail { border-left: 6px solid var(--fail); }
article.pass { border-left: 6px solid var(--pass); }
article.missing { border-left: 6px solid var(--missing); }
article.inconclusive { border-left: 6px solid var(--unknown); } article.not-graded { border-left: 6px solid var(--ungraded); opacity: .7; }
.count.inconclusive b { color: var(--unknown); } .count.not-graded b { color: var(--ungraded); } .verdict.inconclusive { background: var(--unknown); } .score { font-size: 1.2em; }
.failure { background: #fef2f2; border: 1px solid #fecaca; border-radius: 8px; padding: 8px 12px; }
.diagnosis { background: #fff7ed; border: 1px solid #fed7aa; border-radius: 8px; padding: 8px 12px; margin-top: 8px; }
.deviation { background: #f0f9ff; border: 1px solid #bae6fd; border-radius: 8px; padding: 8px 12px; margin-top: 8px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
pre.error { color: var(--fail); font-size: 13px; }
figure.cmd { margin: 10px 0; }
figure.cmd figcaption { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
figure.cmd figcaption .bad { color: var(--fail); font-weight: 700; }
pre.term { background: #0b1021; color: #e2e8f0; border-radius: 8px; padding: 10px 12px; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-x: auto; }
pre.term .ps1 { color: #4ade80; user-select: none; }
pre.term .cmdline { color: #fff; font-weight: 700; }
pre.term .stderr { color: #fca5a5; }
.note { color: var(--muted); font-style: italic; }
ul.tests { padding-left: 18px; margin: 4px 0; }
`;
