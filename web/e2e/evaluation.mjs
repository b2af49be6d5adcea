// Browser checks of the evaluation the page shows for a file with a target_label column: the agreement
// rate, the per-label scores and the confusion matrix must be what `logclf evaluate --json` reports for
// the same file, and the rows highlighted (and kept by the "differs" filter) those where
// `logclf classify` disagrees with target_label. Called by e2e.mjs with its helpers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const score = (value) => (value === null ? '—' : value.toFixed(4));

async function checkFile(t, file, shot) {
  const { page, args } = t;
  const report = JSON.parse(execFileSync(args.logclf, ['evaluate', '--json', file],
    { stdio: ['ignore', 'pipe', 'pipe'] }).toString()).hybrid;
  const classified = t.parseCsv(execFileSync(args.logclf, ['classify', '--explain', file, '-o', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).toString());
  const target = classified.header.indexOf('target_label');
  const predicted = classified.header.indexOf('predicted_label');
  const differing = classified.rows.map((r, i) => (r[target] !== r[predicted] ? i + 1 : 0)).filter(Boolean);

  await page.setInputFiles('#csv-file', file);
  await page.waitForSelector('#evaluation:not([hidden])', { timeout: 20_000 });
  const correct = report.confusion.reduce((sum, row, i) => sum + row[i], 0);
  assert.equal(report.total - correct, differing.length, 'logclf evaluate and logclf classify disagree');
  assert.equal(await page.textContent('#agreement'), `The prediction agrees with target_label on ${correct} of `
    + `${report.total} lines (${(100 * report.accuracy).toFixed(1)}%); ${report.total - correct} differ.`);

  const scores = await page.$$eval('#scores tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(scores, report.labels.map((label) => {
    const s = report.per_label[label];
    return [label, score(s.precision), score(s.recall), score(s.f1), String(s.support)];
  }));
  const matrix = await page.evaluate(() => {
    const table = document.getElementById('confusion');
    return { columns: [...table.tHead.rows[0].cells].slice(1).map((c) => c.textContent),
      rows: [...table.tBodies[0].rows].map((tr) => [...tr.cells].map((c) => c.textContent)),
      shades: [...table.tBodies[0].querySelectorAll('td')].map((td) => getComputedStyle(td).backgroundColor) };
  });
  assert.deepEqual(matrix.columns, report.labels);
  assert.deepEqual(matrix.rows, report.labels.map((label, i) => [label, ...report.confusion[i].map(String)]));
  // A heatmap: the largest cell is darker than an empty one.
  const flat = report.confusion.flat();
  assert.notEqual(matrix.shades[flat.indexOf(Math.max(...flat))], matrix.shades[flat.indexOf(0)]);

  await page.selectOption('#page-size', '100');
  const highlighted = await page.$$eval('#results-table tbody tr.differs td.line',
    (tds) => tds.map((td) => Number(td.textContent)));
  assert.deepEqual(highlighted, differing.filter((line) => line <= 100));
  await page.check('#filter-differs');
  const kept = await page.$$eval('#results-table tbody tr', (trs) => trs.map((tr) => ({
    line: Number(tr.cells[0].textContent), differs: tr.classList.contains('differs') })));
  assert.deepEqual(kept.map((r) => r.line), differing.slice(0, 100));
  assert.ok(kept.every((r) => r.differs));
  await page.evaluate(() => document.getElementById('evaluation').scrollIntoView());
  await page.screenshot({ path: path.join(args.out, shot), fullPage: page.viewportSize().width > 900 });
  await page.uncheck('#filter-differs');
}

export async function evaluationChecks(t) {
  await t.check(`evaluation of ${path.basename(t.args.labelled)} equals logclf evaluate`, async () => {
    await t.page.goto(`${t.base}/`);
    await checkFile(t, t.args.labelled, 'desktop-evaluation.png');
  });
  if (t.args.seed && fs.existsSync(t.args.seed)) {
    await t.check('evaluation of the seed data set equals logclf evaluate (desktop, then phone)', async () => {
      await checkFile(t, t.args.seed, 'desktop-evaluation-seed.png');
      await t.page.setViewportSize({ width: 390, height: 844 });
      await checkFile(t, t.args.seed, 'phone-evaluation-seed.png');
      await t.page.setViewportSize({ width: 1440, height: 900 });
    });
  } else {
    console.log(`# no seed data set at ${t.args.seed}: its evaluation check is skipped`);
  }
}
