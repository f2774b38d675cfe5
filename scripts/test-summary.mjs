#!/usr/bin/env node
// Prints one line summarising a vitest JSON report: `N passed, N failed[, N skipped]`.
// Usage: node scripts/test-summary.mjs [report]   (default .ci-out/vitest.json)
//
// Counts test cases (assertionResults). A test file that failed without any failed case
// (it did not load, or a hook threw) counts as one failure, and so does a missing or
// unreadable report, so the line never reads "0 failed" when the run was red.
// Always exits 0: the caller decides the overall exit code from vitest's own.
import { readFileSync } from 'node:fs';

const SKIPPED = new Set(['skipped', 'pending', 'todo', 'disabled']);

/** Counts passed, failed and skipped cases in a parsed vitest JSON report. */
function summarize(report) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const file of report.testResults ?? []) {
    const cases = file.assertionResults ?? [];
    let failedHere = 0;
    for (const { status } of cases) {
      if (status === 'passed') counts.passed++;
      else if (status === 'failed') failedHere++;
      else if (SKIPPED.has(status)) counts.skipped++;
    }
    if (file.status === 'failed' && failedHere === 0) failedHere = 1;
    counts.failed += failedHere;
  }
  return counts;
}

/** Formats counts as the summary line. */
function formatSummary({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : '');
}

const path = process.argv[2] ?? '.ci-out/vitest.json';
let counts;
try {
  counts = summarize(JSON.parse(readFileSync(path, 'utf8')));
} catch (e) {
  console.error(`test-summary: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  counts = { passed: 0, failed: 1, skipped: 0 };
}
console.log(formatSummary(counts));
