// Browser checks of first-time, keyboard and phone use of the page at `/`: panels hidden until they have
// something to show, error messages, pasted lines, keyboard sorting, the table's layout at desktop and
// phone sizes, time sorting, filtering a large file, encoding warnings, colours, and axe-core's audit.
// Called by e2e.mjs with its helpers; each check records its own verdict.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
// Six keystrokes into the filter of 12,050 rows. Before debouncing each one filtered every row and
// re-rendered (about 1.1 s each, 6.6 s in all); the bound is generous for a loaded machine but far below.
const BIG_ROWS = 12_050;
const FILTER_WORD = 'server';
const FILTER_SECONDS = 2.5;

// The seed data set where present (its long messages and mixed timestamps are the point), else the example.
function sampleFile(args) {
  if (args.seed && fs.existsSync(args.seed)) return args.seed;
  console.log(`# no seed data set at ${args.seed}: the layout checks use ${args.example}`);
  return args.example;
}

async function axeViolations(page, modules) {
  const require = createRequire(path.join(path.resolve(modules), 'e2e.cjs'));
  // Evaluated through the debugging protocol: the page's Content-Security-Policy forbids injected scripts.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function firstUseChecks(t) {
  const { check, page, base, args, work, truth } = t;
  const sample = sampleFile(args);
  const write = (name, text, encoding = 'utf8') => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text, encoding);
    return file;
  };
  const upload = async (file) => {
    await page.evaluate(() => { document.getElementById('results').hidden = true; });
    await page.setInputFiles('#csv-file', file);
    await t.waitForResults(page);
  };

  await check('before anything loads, no empty panel shows (the model card, the message result)', async () => {
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/v1/model', async (route) => { await held; await route.continue(); });
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}/`);
    await page.waitForSelector('#model-status');
    assert.match(await page.textContent('#model-status'), /Loading/);
    for (const id of ['model-facts', 'one-result', 'results', 'csv-error', 'csv-warning', 'one-error']) {
      assert.ok(await page.isHidden(`#${id}`), `#${id} shows before it has content`);
    }
    await page.screenshot({ path: path.join(args.out, 'index-loading.png') });
    release();
    await page.waitForSelector('#model-facts:not([hidden])');
    await page.unroute('**/v1/model');
    assert.ok(await page.isVisible('#model-facts'));
    assert.ok(await page.isHidden('#one-result'));
  });

  await check('a CSV error names the file once and, for a ; or tab separated file, the separator', async () => {
    t.setExpectedErrors(true);
    const cases = [
      ['no_message_col.csv', 'timestamp,text\n2025-11-02 08:14:03,hello\n',
        /^no_message_col\.csv: missing column 'log_message' \(columns: timestamp, text\)$/],
      ['semicolons.csv', 'timestamp;source;log_message\n2025-11-02;a;hello\n',
        /^semicolons\.csv: missing column .*separated by ';'/],
      ['tabs.csv', 'timestamp\tlog_message\n2025-11-02\thello\n', /^tabs\.csv: missing column .*separated by tabs/],
    ];
    for (const [name, text, expected] of cases) {
      await page.setInputFiles('#csv-file', write(name, text));
      await page.waitForFunction((file) => document.getElementById('csv-error').textContent.startsWith(file), name,
        { timeout: 10_000 });
      const message = await page.textContent('#csv-error');
      assert.match(message, expected);
      assert.equal(message.split(name).length - 1, 1, `the file name is not there exactly once: ${message}`);
    }
    t.setExpectedErrors(false);
  });

  await check('pasted lines are classified one by one, as the CLI does; whitespace is named', async () => {
    const messages = ['Backup completed successfully.', 'User User123 logged in.',
      'Primary database cluster unreachable, all write operations halted'];
    await page.fill('#one-source', '');
    await page.fill('#one-message', `${messages[0]}\n${messages[1]}\n  \n${messages[2]}\n`);
    const rows = await t.submitMessages(page);
    assert.deepEqual(rows, messages.map((m) => {
      const e = t.classifyWithCli(m, '');
      return [e.predicted_label, e.stage, e.rule || '—', Number(e.confidence).toFixed(4), m];
    }));
    assert.equal(await page.textContent('#one-note'), 'Line 3 is only whitespace: skipped.');
    await page.screenshot({ path: path.join(args.out, 'index-pasted-lines.png') });
    await page.fill('#one-message', ' \t \n  ');
    await page.click('#one-submit');
    await page.waitForSelector('#one-error:not([hidden])');
    assert.equal(await page.textContent('#one-error'), 'The message is only whitespace: type or paste a log line.');
    assert.ok(await page.isHidden('#one-result'));
  });

  await check('Enter on a column header sorts and keeps the focus on that header', async () => {
    await upload(args.example);
    const button = page.locator('#results-table thead button[data-column="confidence"]');
    await button.focus();
    for (const direction of ['ascending', 'descending']) {
      await page.keyboard.press('Enter');
      assert.equal(await page.getAttribute('#results-table thead th:has(button[data-column="confidence"])', 'aria-sort'),
        direction);
      assert.equal(await page.evaluate(() => document.activeElement?.dataset?.column), 'confidence',
        'the focus left the header');
    }
    const confidence = truth.header.indexOf('confidence');
    const shown = t.inOrder(await t.readTable(page), truth.header).map((r) => Number(r[confidence]));
    assert.deepEqual(shown, shown.slice().sort((a, b) => b - a));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const next = await page.evaluate(() => document.activeElement?.dataset?.column);
    assert.equal(await page.getAttribute(`#results-table thead th:has(button[data-column="${next}"])`, 'aria-sort'),
      'ascending');
  });

  await check('desktop 1440×900: results before the message, no sideways scroll, short rows, sticky header', async () => {
    await page.setViewportSize(DESKTOP);
    await upload(sample);
    await page.selectOption('#page-size', '50');
    const layout = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap');
      const rows = [...document.querySelectorAll('#results-table tbody tr')];
      const confidence = document.querySelector('#results-table thead button[data-column="confidence"]');
      return { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth,
        confidenceRight: confidence.getBoundingClientRect().right, wrapRight: wrap.getBoundingClientRect().right,
        tallest: Math.max(...rows.map((r) => r.getBoundingClientRect().height)),
        expanders: document.querySelectorAll('#results-table button.expand').length };
    });
    assert.ok(layout.scrollWidth <= layout.clientWidth,
      `the table is ${layout.scrollWidth} px wide in a ${layout.clientWidth} px box`);
    assert.ok(layout.confidenceRight <= layout.wrapRight, 'the confidence column is out of view');
    assert.ok(layout.tallest <= 110, `a row is ${layout.tallest} px tall`);
    if (sample === args.seed) assert.ok(layout.expanders > 0, 'no long message has a "Show all" button');
    if (layout.expanders > 0) {
      const expand = page.locator('#results-table button.expand').first();
      const cell = page.locator('#results-table td.message:has(button.expand)').first();
      const before = (await cell.boundingBox()).height;
      await expand.click();
      assert.equal(await expand.getAttribute('aria-expanded'), 'true');
      assert.ok((await cell.boundingBox()).height > before, 'expanding did not show more of the message');
      await expand.click();
      assert.equal(await expand.getAttribute('aria-expanded'), 'false');
    }
    // Scrolled down inside its box, the header stays at the top of the box.
    const sticky = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap');
      wrap.scrollTop = wrap.scrollHeight;
      const top = wrap.getBoundingClientRect().top;
      const th = document.querySelector('#results-table thead th').getBoundingClientRect().top;
      return { scrolled: wrap.scrollTop, offset: th - top };
    });
    assert.ok(sticky.scrolled > 0, 'the table box does not scroll');
    assert.ok(Math.abs(sticky.offset) <= 2, `the header is ${sticky.offset} px from the top of the box`);
    await page.evaluate(() => { document.querySelector('.table-wrap').scrollTop = 0; });
    await page.screenshot({ path: path.join(args.out, 'desktop-results.png'), fullPage: true });
  });

  await check('phone 390×844: upload first, one-line file button, each row a card with the label in view', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/`);
    await page.waitForSelector('#model-facts:not([hidden])');
    const top = await page.evaluate(() => {
      const button = document.querySelector('label[for="csv-file"]');
      const lineHeight = parseFloat(getComputedStyle(button).lineHeight);
      return { upload: document.querySelector('.upload').getBoundingClientRect().top,
        buttonLines: button.getClientRects().length, buttonHeight: button.getBoundingClientRect().height, lineHeight };
    });
    assert.ok(top.upload < 150, `the upload section starts ${top.upload} px down`);
    assert.equal(top.buttonLines, 1, 'the file button wraps');
    assert.ok(top.buttonHeight < 2 * top.lineHeight, `the file button is ${top.buttonHeight} px tall`);
    await page.screenshot({ path: path.join(args.out, 'phone-start.png') });
    await upload(sample);
    const cards = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap');
      const rows = [...document.querySelectorAll('#results-table tbody tr')];
      const first = rows[0].getBoundingClientRect();
      const label = rows[0].querySelector('td.label').getBoundingClientRect();
      const message = rows[0].querySelector('td.message').getBoundingClientRect();
      return { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth, pageWidth: document.documentElement.scrollWidth,
        labelRight: label.right, labelTop: label.top - first.top, messageTop: message.top - first.top,
        tallest: Math.max(...rows.map((r) => r.getBoundingClientRect().height)) };
    });
    assert.ok(cards.scrollWidth <= cards.clientWidth, `the cards are ${cards.scrollWidth} px wide in ${cards.clientWidth} px`);
    assert.ok(cards.pageWidth <= PHONE.width, `the page is ${cards.pageWidth} px wide`);
    assert.ok(cards.labelRight <= PHONE.width, `the label ends at ${cards.labelRight} px`);
    assert.ok(cards.labelTop < 30 && cards.messageTop > cards.labelTop, 'the label is not at the top of its card');
    assert.ok(cards.tallest <= 240, `a card is ${cards.tallest} px tall`);
    // A phone screen's worth each: the results' top (charts), and the cards.
    await page.evaluate(() => document.getElementById('results').scrollIntoView());
    await page.screenshot({ path: path.join(args.out, 'phone-results.png') });
    await page.evaluate(() => document.getElementById('filters').scrollIntoView());
    await page.screenshot({ path: path.join(args.out, 'phone-cards.png') });
    await page.setViewportSize(DESKTOP);
  });

  await check('timestamps sort as times, not as text', async () => {
    // In time order; as text, "1/14/2025 …" and "12/3/2024 …" would come before every ISO date.
    const times = ['12/3/2024 9:05', '2025-1-2 10:00', '2025-01-14 23:06:59', '1/14/2025 23:07',
      '2025-01-14T23:30:00+00:00', '2025-06-27 7:20:25'];
    const shuffled = [3, 0, 5, 2, 4, 1];
    const csv = ['timestamp,log_message', ...shuffled.map((i) => `${times[i]},line ${i}`)].join('\n');
    await upload(write('times.csv', `${csv}\n`));
    const header = page.locator('#results-table thead button[data-column="timestamp"]');
    await header.click();
    const read = async () => {
      const table = await t.readTable(page);
      return table.rows.map((r) => r[table.header.indexOf('timestamp')]);
    };
    assert.deepEqual(await read(), times);
    await header.click();
    assert.deepEqual(await read(), times.slice().reverse());
  });

  await check(`filtering ${BIG_ROWS} rows: debounced, one re-render per burst of typing, under ${FILTER_SECONDS} s`, async () => {
    const parsed = t.parseCsv(fs.readFileSync(sample, 'utf8'));
    const big = { header: parsed.header, rows: Array.from({ length: BIG_ROWS }, (_, i) => parsed.rows[i % parsed.rows.length]) };
    await upload(write('big.csv', `${t.unparseCsv([big.header, ...big.rows])}\n`));
    assert.ok((await page.textContent('#page-info')).includes(`of ${BIG_ROWS} ·`), await page.textContent('#page-info'));
    const message = big.header.indexOf('log_message');
    const matching = (word) => big.rows.filter((r) => r[message].toLowerCase().includes(word)).length;
    const expected = matching(FILTER_WORD);
    await page.evaluate(() => {
      window.renders = 0;
      new MutationObserver(() => { window.renders += 1; })
        .observe(document.querySelector('#results-table tbody'), { childList: true });
    });
    await page.focus('#filter-text');
    const started = Date.now();
    await page.keyboard.type(FILTER_WORD, { delay: 40 });
    await page.waitForFunction((n) => document.getElementById('page-info').textContent.includes(`of ${n} (filtered`),
      expected, { timeout: 15_000 });
    const seconds = (Date.now() - started) / 1000;
    const renders = await page.evaluate(() => window.renders);
    assert.ok(renders <= 2, `${renders} re-renders for ${FILTER_WORD.length} keystrokes`);
    assert.ok(seconds < FILTER_SECONDS, `typing "${FILTER_WORD}" took ${seconds} s to filter`);
    console.log(`# filter of ${BIG_ROWS} rows: ${seconds} s from the first keystroke, ${renders} re-render(s)`);
    // Narrowing and widening again give what a full filter gives.
    await page.keyboard.press('Backspace');
    const wider = matching(FILTER_WORD.slice(0, -1));
    await page.waitForFunction((n) => document.getElementById('page-info').textContent.includes(`of ${n} (filtered`),
      wider, { timeout: 15_000 });
  });

  await check('a Latin-1 file gets a warning about characters that are not UTF-8', async () => {
    await upload(write('latin1.csv', 'log_message\nCafé opened\nplain line\nna\u00efve\n', 'latin1'));
    await page.waitForSelector('#csv-warning:not([hidden])');
    assert.equal(await page.textContent('#csv-warning'), 'latin1.csv: 2 lines (the first: line 1) held bytes that '
      + 'are not UTF-8, shown as \uFFFD. The file is probably Latin-1 or Windows-1252: save it as UTF-8 and classify it again.');
    await upload(args.example);
    assert.ok(await page.isHidden('#csv-warning'), 'the warning stays for a UTF-8 file');
  });

  await check('labels and stages have distinct colours; the stage legend gives every count', async () => {
    await upload(sample);
    const charts = await page.evaluate(() => ['labels-chart', 'stages-chart'].map((id) => {
      const chart = window.Chart.getChart(document.getElementById(id));
      return { colours: chart.data.datasets[0].backgroundColor.map((c) => c.toLowerCase()),
        names: chart.data.labels, counts: chart.data.datasets[0].data,
        legend: chart.legend.legendItems.map((item) => item.text) };
    }));
    const [labels, stages] = charts;
    assert.equal(new Set(labels.colours).size, labels.colours.length, `two labels share a colour: ${labels.colours}`);
    assert.equal(new Set(stages.colours).size, 3);
    const shared = stages.colours.filter((c) => labels.colours.includes(c));
    assert.deepEqual(shared, [], 'a stage has a label\'s colour');
    const rows = t.parseCsv(fs.readFileSync(sample, 'utf8')).rows.length;
    assert.equal(stages.counts.reduce((a, b) => a + b, 0), rows);
    assert.deepEqual(stages.legend, stages.names.map((name, i) => `${name}: ${stages.counts[i]}`));
  });

  await check('axe-core: no serious or critical violation on / (desktop and phone, before and after a CSV; '
    + 'dark scheme)', async () => {
    const found = [];
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      await page.setViewportSize(viewport);
      await page.goto(`${base}/`);
      await page.waitForSelector('#model-facts:not([hidden])');
      found.push(...(await axeViolations(page, args.modules)).map((v) => `${size}, empty page: ${v}`));
      await upload(args.labelled);
      found.push(...(await axeViolations(page, args.modules)).map((v) => `${size}, with results: ${v}`));
    }
    // The dark colour scheme swaps every colour: its contrasts are checked too.
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'dark' });
    await upload(args.labelled);
    found.push(...(await axeViolations(page, args.modules)).map((v) => `desktop, dark, with results: ${v}`));
    await page.screenshot({ path: path.join(args.out, 'desktop-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    assert.deepEqual(found, []);
  });
}
