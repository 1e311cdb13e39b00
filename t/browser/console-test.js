/*
 * console-test.js: the steward's console driven by headless Chromium
 * (Debian's chromium through puppeteer-core) against a running registry,
 * as a steward would use it: a data set with two known duplicate pairs
 * is loaded through the FHIR API, then the queue is opened, one pair
 * compared (the matcher's evidence must be on screen), dismissed with a
 * comment, the other merged (survivor chosen, preview, confirm) and
 * unmerged; after each step the stored state is checked through the API.
 * Also: find a client by PHN, the client's page and audit trail, an API
 * error in plain words, a narrow window, keyboard use, labelled controls.
 *
 *   node console-test.js http://127.0.0.1:PORT
 *
 * Prints TAP (the plan first); t/browser/console.t runs it inside the
 * Apache::Test suite.  Screenshots go to t/browser/screens/ (git-ignored).
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const PLAN = 42;
const base = (process.argv[2] || '').replace(/\/$/, '');
const FHIR = base + '/fhir';
const SHOTS = path.join(__dirname, 'screens');
const PHN_SYSTEM =
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';
const TIMEOUT = 60000;

const lines = [];
let count = 0;
function ok(cond, name, detail) {
  count++;
  lines.push(`${cond ? 'ok' : 'not ok'} ${count} - ${name}`);
  if (!cond && detail !== undefined) {
    lines.push('# ' + String(typeof detail === 'string' ? detail
      : JSON.stringify(detail)).slice(0, 600).replace(/\n/g, '\n# '));
  }
  return cond;
}
function finish(error) {
  const out = [`1..${PLAN}`, ...lines];
  if (error) {
    out.push('# stopped: ' + String(error && error.stack || error)
      .replace(/\n/g, '\n# '));
  }
  for (let i = count + 1; i <= PLAN; i++) {
    out.push(`not ok ${i} - not reached`);
  }
  if (count > PLAN) out.push(`# ${count} tests run, plan says ${PLAN}`);
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = error || count !== PLAN ? 1 : 0;
}

async function api(method, p, body, headers) {
  const res = await fetch(FHIR + p, {
    method,
    headers: { Accept: 'application/fhir+json',
      ...(body ? { 'Content-Type': 'application/fhir+json' } : {}),
      ...(headers || {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  return { status: res.status, json };
}

const letters = (n) => Array.from({ length: n }, () =>
  String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
const cap = (s) => s[0].toUpperCase() + s.slice(1);

function person(family, given, birth, phone, line, postal) {
  return {
    resourceType: 'Patient',
    name: [{ use: 'official', family, given: [given] }],
    gender: 'female', birthDate: birth,
    telecom: [{ system: 'phone', value: phone, use: 'home' }],
    address: [{ line: [line], city: 'Victoria', state: 'BC',
      postalCode: postal, country: 'CA' }],
  };
}

/* The pair patient/other through the API, with evidence and history. */
async function pair(a, b) {
  const r = await api('POST', '/Patient/$potential-duplicates', {
    resourceType: 'Parameters', parameter: [
      { name: 'patient', valueString: a }, { name: 'other', valueString: b },
      { name: 'history', valueBoolean: true }] });
  const d = ((r.json && r.json.parameter) || [])[0];
  if (!d) return null;
  const parts = {};
  for (const p of d.part) (parts[p.name] = parts[p.name] || []).push(p);
  return {
    status: parts.status[0].valueCode,
    history: (parts.decision || []).map((x) => Object.fromEntries(
      x.part.map((q) => [q.name, q.valueCode ?? q.valueString ??
        q.valueInstant ?? q.valueInteger]))),
  };
}

async function main() {
  if (!base) throw new Error('usage: node console-test.js BASE_URL');
  fs.mkdirSync(SHOTS, { recursive: true });
  const tok = cap(letters(7));
  const user = 'steward.' + letters(4) + '@idir';

  // --- the data set: two pairs of one person each ----------------------
  const ids = [];
  const rnd = (n) => Math.floor(Math.random() * n);
  const pad = (n, w) => String(n).padStart(w, '0');
  const date = () => `${1940 + rnd(60)}-${pad(1 + rnd(12), 2)}-${pad(1 + rnd(28), 2)}`;
  const postal = () => `V${rnd(10)}${String.fromCharCode(65 + rnd(26))} ` +
    `${rnd(10)}${String.fromCharCode(65 + rnd(26))}${rnd(10)}`;
  const born1 = date(), born2 = date(), post1 = postal(), post2 = postal();
  const house1 = 10 + rnd(900), house2 = 10 + rnd(900);
  const phone2 = '604555' + pad(rnd(10000), 4);
  for (const p of [
    person('Thistle' + tok.toLowerCase(), 'Cordelia', born1,
      '250555' + pad(rnd(10000), 4), house1 + ' Oak St', post1),
    person('Thistle' + tok.toLowerCase(), 'Cordilia', born1,
      '778555' + pad(rnd(10000), 4), house1 + ' Oak St', post1),
    person('Marrow' + tok.toLowerCase(), 'Bartholomew', born2, phone2,
      house2 + ' Birch Rd', post2),
    person('Marrow' + tok.toLowerCase(), 'Bartholemew', born2, phone2,
      house2 + ' Birch Rd', post2),
  ]) {
    const r = await api('POST', '/Patient', p);
    if (r.status !== 201) throw new Error('setup create: ' + r.status);
    ids.push(r.json);
  }
  ok(ids.length === 4, 'setup: four clients created through the API');
  const [lo1, hi1] = [ids[0].id, ids[1].id].sort();
  const [lo2, hi2] = [ids[2].id, ids[3].id].sort();
  const phnOf = (p) => (p.identifier || []).find((i) => i.system === PHN_SYSTEM).value;
  let s1 = await pair(lo1, hi1), s2 = await pair(lo2, hi2);
  ok(s1 && s1.status === 'open', 'setup: the first pair is on the review list, open', s1);
  ok(s2 && s2.status === 'open', 'setup: the second pair is on the review list, open', s2);

  const browser = await puppeteer.launch({
    executablePath: process.env.CR_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'cr-console-')),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
    protocolTimeout: 120000,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const external = [];
    page.on('request', (r) => {
      const u = r.url();
      if (!/^(data|blob|about):/.test(u) && !u.startsWith(base)) external.push(u);
    });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.setViewport({ width: 1280, height: 800 });
    const shot = (name) => page.screenshot({ path: path.join(SHOTS, name + '.png'),
      fullPage: true });
    const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());

    // --- the queue --------------------------------------------------------
    await page.goto(base + '/console/index.html#/queue?size=50', { waitUntil: 'load' });
    await page.waitForSelector(`#queue tr[data-pair="${lo1} ${hi1}"]`);
    ok(true, 'queue: the first pair is listed');
    ok(await page.$(`#queue tr[data-pair="${lo2} ${hi2}"]`) !== null,
      'queue: the second pair is listed');
    const row = await page.$eval(`#queue tr[data-pair="${lo1} ${hi1}"]`,
      (e) => e.textContent);
    ok(/Cordelia/.test(row) && /Cordilia/.test(row) && /\d\.\d{3}/.test(row)
       && /create/.test(row), 'queue: the row shows both names, the score and how it was found', row);
    const unlabelled = await page.$$eval('input, select, textarea', (els) =>
      els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map((e) => e.id || e.name));
    ok(unlabelled.length === 0, 'queue: every control has a label', unlabelled);
    await shot('01-queue');

    // Filter by grade and sort by score (server side: every page).
    await page.select('#f-grade', 'certain');
    await page.waitForFunction(() => /grade=certain/.test(location.hash)
      && document.querySelector('#queue tbody tr, main p.notice'));
    const grades = await page.$$eval('#queue tbody .grade', (e) => e.map((x) => x.textContent));
    ok(grades.length > 0 && grades.every((g) => g === 'certain'),
      'queue: the grade filter shows certain pairs only', grades);
    await page.select('#f-grade', '');
    await page.waitForFunction(() => /grade=&/.test(location.hash)
      && document.querySelector('#queue tbody tr'));
    await page.select('#f-sort', 'score');
    await page.waitForFunction(() => /sort=score/.test(location.hash)
      && document.querySelector('#queue tbody tr'));
    const scores = await page.$$eval('#queue tbody td.num', (e) => e.map((x) => parseFloat(x.textContent)));
    ok(scores.length > 1 && scores.every((v, i) => i === 0 || scores[i - 1] <= v),
      'queue: sorted by score, lowest first', scores);
    await page.goto(base + '/console/index.html#/queue?size=50', { waitUntil: 'load' });
    await page.waitForSelector(`#queue tr[data-pair="${lo1} ${hi1}"]`);

    // Keyboard: Tab reaches the pair's Compare link, Enter opens it.
    await page.focus('body');
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate((pairId) => {
        const a = document.activeElement;
        return !!a && a.tagName === 'A' && a.closest('tr') &&
          a.closest('tr').dataset.pair === pairId;
      }, `${lo1} ${hi1}`);
    }
    ok(reached, 'keyboard: Tab reaches the Compare link of the pair');
    await page.keyboard.press('Enter');

    // --- side by side with the evidence ------------------------------------
    await page.waitForSelector('#compare tr[data-field="given"]');
    ok(page.url().includes(`#/pair/${lo1}/${hi1}`), 'keyboard: Enter opened the pair', page.url());
    const level = async (f) => text(`#compare tr[data-field="${f}"] .level`);
    ok(await level('given') === 'similar', 'compare: given names agree as similar (Cordelia / Cordilia)',
      await level('given'));
    ok(await level('family') === 'exact', 'compare: family names agree exactly');
    ok(await level('birth') === 'exact', 'compare: birth dates agree exactly');
    ok(await level('phone') === 'disagree', 'compare: the phones disagree',
      await level('phone'));
    const weight = async (f) => parseFloat((await text(
      `#compare tr[data-field="${f}"] td.num`)).replace('+', ''));
    ok(await weight('family') > 0 && await weight('phone') < 0,
      'compare: agreement weighs for, disagreement against');
    ok(await page.$eval('#compare tr[data-field="given"]', (e) =>
      e.classList.contains('differ')), 'compare: the differing given names are highlighted');
    ok(await page.$eval('#compare tr[data-field="phone"]', (e) =>
      e.classList.contains('disagree')), 'compare: the disagreeing phones are highlighted');
    await shot('02-compare');

    // --- dismiss the first pair with a comment ------------------------------
    const comment = 'Sisters at one address: different mothers (' + tok + ')';
    await page.type('#comment', comment);
    await page.click('#not-duplicate');
    await page.waitForSelector('#flash');
    s1 = await pair(lo1, hi1);
    ok(s1.status === 'not-duplicate', 'dismiss: stored status not-duplicate', s1);
    ok(s1.history.length === 1 && s1.history[0].action === 'not-duplicate'
       && s1.history[0].comment === comment, 'dismiss: the decision and its comment are stored',
    s1.history);
    ok((await text('#history')).includes(comment), 'dismiss: the history on screen shows the comment');
    ok(await text('#pair-status') === 'not-duplicate', 'dismiss: the page shows the new status');
    await shot('03-dismissed');

    // --- merge the second pair ---------------------------------------------
    await page.type('#user-id', user);
    await page.keyboard.press('Tab');
    await page.goto(`${base}/console/index.html#/pair/${lo2}/${hi2}`, { waitUntil: 'load' });
    await page.waitForSelector('#merge-start');
    await page.click('#merge-start');
    await page.click(`#survivor-${lo2}`);
    await page.click('#merge-preview-btn');
    await page.waitForSelector('#merge-preview .preview');
    const preview = await text('#merge-preview');
    ok(preview.includes(lo2) && preview.includes(hi2) && preview.includes(phnOf(ids.find((p) => p.id === hi2))),
      'merge: the preview names the survivor, the record merged away and the identifier that moves', preview);
    s2 = await pair(lo2, hi2);
    ok(s2.status === 'open', 'merge: nothing changed before the confirmation', s2);
    await shot('04-merge-preview');
    const why = 'Same PHN card at two clinics (' + tok + ')';
    await page.type('#comment', why);
    await page.click('#merge-confirm');
    await page.waitForSelector('#flash');
    s2 = await pair(lo2, hi2);
    ok(s2.status === 'merged', 'merge: stored status merged', s2);
    const gone = (await api('GET', '/Patient/' + hi2)).json;
    ok(gone.active === false && (gone.link || []).some((l) => l.type === 'replaced-by'
       && l.other.reference === 'Patient/' + lo2), 'merge: the record merged away points to the survivor',
    { active: gone.active, link: gone.link });
    ok(s2.history.length === 2 && s2.history[1].action === 'merged'
       && s2.history[1].decidedBy === user && s2.history[0].action === 'note'
       && s2.history[0].comment === why && s2.history[0].status === 'merged',
    'merge: the pair history records the merge, who did it and why', s2.history);
    ok(await page.$('#unmerge') !== null && (await text('#pair-status')) === 'merged',
      'merge: the page offers the unmerge');
    await shot('05-merged');

    // --- unmerge it ----------------------------------------------------------
    await page.click('#unmerge');
    await page.waitForFunction(() => {
      const f = document.getElementById('flash');
      return f && /Unmerged/.test(f.textContent);
    });
    s2 = await pair(lo2, hi2);
    ok(s2.status === 'open', 'unmerge: stored status open again', s2);
    const back = (await api('GET', '/Patient/' + hi2)).json;
    ok(back.active !== false && !(back.link || []).some((l) => l.type === 'replaced-by'),
      'unmerge: the record is a client of its own again', { active: back.active, link: back.link });
    ok(s2.history.map((d) => d.action).join(',') === 'unmerged,note,merged',
      'unmerge: the history shows the merge and the unmerge', s2.history);
    ok(await page.$('#merge-start') !== null, 'unmerge: the page offers the decisions again');
    await shot('06-unmerged');

    // --- find a client, the client, the audit trail -------------------------
    await page.goto(base + '/console/index.html#/find', { waitUntil: 'load' });
    await page.waitForSelector('#phn');
    await page.type('#phn', phnOf(ids[0]));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#find-results table');
    ok((await text('#find-results')).includes(ids[0].id), 'find: by PHN finds the client');
    await shot('07-find');
    await page.click(`#find-results a[href="#/client/${ids[0].id}"]`);
    await page.waitForFunction((id) => document.querySelector('main h2')
      && document.querySelector('main h2').textContent.includes(id), {}, ids[0].id);
    const client = await text('main');
    ok(client.includes('not-duplicate') && client.includes('Version 1'),
      'client: shows the pair and the history', client.slice(0, 300));
    await shot('08-client');
    await page.click(`a[href="#/audit/${ids[0].id}"]`);
    await page.waitForSelector('#audit tbody tr');
    const audit = await text('#audit');
    ok(/resolve-duplicate/.test(audit), 'audit: the trail lists the decision', audit.slice(0, 300));
    await shot('09-audit');

    // --- an API error in plain words -----------------------------------------
    await page.goto(base + '/console/index.html#/client/no-such-client', { waitUntil: 'load' });
    await page.waitForSelector('#error:not([hidden])');
    const err = await text('#error');
    const left = await text('main');
    ok(/^Not found/.test(err) && !/\{|OperationOutcome/.test(err)
       && !/Audit trail/.test(left),
      'errors: a missing client is reported in plain words, no stale screen', { err, left });
    await shot('10-error');

    // --- a narrow window -------------------------------------------------------
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(base + '/console/index.html#/queue?size=10', { waitUntil: 'load' });
    await page.waitForSelector('#queue tbody tr');
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - window.innerWidth);
    ok(overflow <= 1, 'narrow: the queue fits a 390 px window', overflow);
    await shot('11-queue-narrow');
    await page.goto(`${base}/console/index.html#/pair/${lo1}/${hi1}`, { waitUntil: 'load' });
    await page.waitForSelector('#compare');
    const overflow2 = await page.evaluate(() =>
      document.documentElement.scrollWidth - window.innerWidth);
    ok(overflow2 <= 1, 'narrow: the comparison fits a 390 px window', overflow2);
    await shot('12-compare-narrow');

    // --- what the page did not do ------------------------------------------------
    ok(external.length === 0, 'no request left the registry', external);
    ok(pageErrors.length === 0, 'no script error', pageErrors);
    const csp = (await api('GET', '/../console/index.html')).status;
    ok(csp === 200, 'the console is served next to the API');
    ok(fs.readdirSync(SHOTS).filter((f) => f.endsWith('.png')).length >= 12,
      'a screenshot of every screen is kept');
  } finally {
    await browser.close();
  }
}

main().then(() => finish(), (e) => finish(e));
