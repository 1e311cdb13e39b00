/*
 * console.js: the data steward's console of mod_clientregistry
 * (docs/console.md).  One file, no framework, no dependency: a hash
 * router over five screens (review queue, side by side with the
 * matcher's evidence and the decisions, find a client, a client with
 * history and links, a client's audit trail), all built from the
 * registry's own FHIR API with the caller's credentials.
 *
 * Safety: every text from the API is set as textContent (never as HTML);
 * every change is a POST with a JSON body of type application/fhir+json,
 * which a cross-site form cannot send and which forces a CORS preflight
 * that the registry does not grant, so another site cannot make a
 * steward's browser decide anything (docs/console.md, "CSRF").
 */
'use strict';

const FHIR_BASE = (document.querySelector('meta[name="cr-fhir-base"]') || {})
  .content || '/fhir';
const FHIR_TYPE = 'application/fhir+json';
const PHN_SYSTEM =
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';
const MERGE_STATUS_EXT = 'http://hlth.gov.bc.ca/fhir/client/' +
  'StructureDefinition/bc-merge-status-extension';
const EVIDENCE_EXT = 'http://hlth.gov.bc.ca/fhir/client/' +
  'StructureDefinition/cr-match-evidence';

/* The compared fields, in the order the matcher lists them. */
const FIELDS = [
  ['given', 'Given name(s)'], ['family', 'Family name'],
  ['birth', 'Birth date'], ['sex', 'Sex'], ['phone', 'Phone'],
  ['postal', 'Postal code'], ['address', 'Address'],
];
const STRONG = new Set(['exact', 'agree']);
const PARTIAL = new Set(['nickname', 'similar', 'phonetic', 'partial',
  'swapped', 'typo', 'street', 'locality', 'one-digit', 'year-off',
  'same-year-month', 'day-month-swapped']);

/* ------------------------------------------------------------------ */
/* DOM helpers                                                         */
/* ------------------------------------------------------------------ */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById('main');
let statusTimer = null;
function say(text) {
  const s = document.getElementById('status');
  s.textContent = text || '';
  clearTimeout(statusTimer);
  if (text) statusTimer = setTimeout(() => { s.textContent = ''; }, 8000);
}
function showError(text) {
  const e = document.getElementById('error');
  e.textContent = text || '';
  e.hidden = !text;
}

/* ------------------------------------------------------------------ */
/* The API                                                             */
/* ------------------------------------------------------------------ */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/* The OperationOutcome texts of an answer (a bare OperationOutcome or
 * one inside a Bundle). */
function outcomeTexts(body) {
  const out = [];
  const visit = (r) => {
    if (!r || typeof r !== 'object') return;
    if (r.resourceType === 'OperationOutcome') {
      for (const i of r.issue || []) {
        if (i.severity === 'error' || i.severity === 'fatal') {
          const t = (i.details && i.details.text) || i.diagnostics;
          if (t) out.push(t + (i.expression ? ` (at ${i.expression[0]})` : ''));
        }
      }
    }
    if (r.resourceType === 'Bundle') {
      for (const e of r.entry || []) visit(e.resource);
    }
  };
  visit(body);
  return out;
}

/* An API failure in plain words. */
function plainError(status, body, what) {
  const detail = outcomeTexts(body);
  const tail = detail.length ? ' The registry said: ' + detail.join('; ') : '';
  const lead = {
    0: 'The registry could not be reached. Check the network and try again.',
    400: `The registry refused the request to ${what} as malformed.`,
    401: 'You are not signed in: the registry did not accept your ' +
      'certificate or token.',
    403: `You are not allowed to ${what}. Ask an administrator for access.`,
    404: `Not found: the registry could not ${what}, it does not exist.`,
    409: `Someone or something changed this first, so the registry did not ${what}.`,
    412: 'The client changed since you loaded it. Reload and try again.',
    422: `The registry cannot ${what}: a business rule stops it.`,
    429: 'The registry is busy. Wait a moment and try again.',
  }[status] || (status >= 500
    ? `The registry failed to ${what}; nothing was changed. Try again shortly.`
    : `The request to ${what} failed (HTTP ${status}).`);
  return lead + tail;
}

async function api(method, path, body, what) {
  const headers = { Accept: FHIR_TYPE };
  const user = sessionStorage.getItem('cr-user');
  if (user) headers.UserId = user;
  if (body !== undefined) headers['Content-Type'] = FHIR_TYPE + '; charset=utf-8';
  let res;
  try {
    res = await fetch(FHIR_BASE + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, plainError(0, null, what));
  }
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  if (!res.ok) throw new ApiError(res.status, plainError(res.status, json, what));
  const bad = outcomeTexts(json);
  if (json && json.resourceType === 'Bundle' && bad.length) {
    throw new ApiError(res.status, plainError(422, json, what));
  }
  return json;
}

const params = (...p) => ({ resourceType: 'Parameters', parameter: p });
const ref = (name, id) => ({ name, valueReference: { reference: 'Patient/' + id } });

/* Parts of a Parameters parameter by name: { name: [part, ...] }. */
function partsOf(p) {
  const m = {};
  for (const x of (p && p.part) || []) (m[x.name] = m[x.name] || []).push(x);
  return m;
}
const idOf = (r) => ((r && r.valueReference && r.valueReference.reference) || '')
  .replace(/^Patient\//, '');

function pairOf(param) {
  const p = partsOf(param);
  const one = (n) => (p[n] || [])[0] || {};
  const pair = {
    a: idOf(one('patient')), b: idOf(one('other')),
    score: one('score').valueDecimal, weight: one('weight').valueDecimal,
    grade: one('grade').valueCode, found: one('found').valueInstant,
    foundBy: one('foundBy').valueCode, status: one('status').valueCode,
    messageId: one('messageId').valueString, evidence: null, history: [],
  };
  const ev = (p.evidence || [])[0];
  if (ev) pair.evidence = evidenceOf(ev.part || [], 'name');
  for (const d of p.decision || []) {
    const q = partsOf(d);
    const v = (n, k) => ((q[n] || [])[0] || {})[k];
    pair.history.push({
      seq: v('seq', 'valueInteger'), decided: v('decided', 'valueInstant'),
      action: v('action', 'valueCode'), status: v('status', 'valueCode'),
      comment: v('comment', 'valueString'), by: v('decidedBy', 'valueString'),
    });
  }
  return pair;
}

/* An evidence (parts keyed "name" or extensions keyed "url"). */
function evidenceOf(items, key) {
  const ev = { fields: {}, withheld: false };
  for (const it of items) {
    const k = it[key];
    if (k === 'field') {
      const f = {};
      for (const x of it.part || it.extension || []) {
        const n = x[key];
        f[n] = x.valueCode ?? x.valueDecimal ?? x.valueString;
      }
      ev.fields[f.name] = f;
    } else if (k === 'withheld') ev.withheld = true;
    else if (k === 'weight') ev.weight = it.valueDecimal;
    else if (k === 'score') ev.score = it.valueDecimal;
    else if (k === 'grade') ev.grade = it.valueCode;
  }
  return ev;
}

async function listPairs({ status, grade, sort, count, offset, patient,
  other, evidence, history }) {
  const p = [];
  if (grade) p.push({ name: 'grade', valueCode: grade });
  if (sort && sort !== '-found') p.push({ name: 'sort', valueCode: sort });
  if (patient) p.push(ref('patient', patient));
  if (other) p.push(ref('other', other));
  if (status) p.push({ name: 'status', valueCode: status });
  if (count) p.push({ name: 'count', valueInteger: count });
  if (offset) p.push({ name: 'offset', valueInteger: offset });
  if (evidence) p.push({ name: 'evidence', valueBoolean: true });
  if (history) p.push({ name: 'history', valueBoolean: true });
  const out = await api('POST', '/Patient/$potential-duplicates',
    params(...p), 'list the possible duplicates');
  return (out.parameter || []).filter((x) => x.name === 'duplicate').map(pairOf);
}

const patientCache = new Map();
async function getPatient(id, fresh) {
  if (!fresh && patientCache.has(id)) return patientCache.get(id);
  const p = await api('GET', '/Patient/' + encodeURIComponent(id), undefined,
    'read client ' + id);
  patientCache.set(id, p);
  return p;
}

/* ------------------------------------------------------------------ */
/* Rendering patients                                                  */
/* ------------------------------------------------------------------ */

function nameText(p) {
  const n = (p && p.name || [])[0];
  if (!n) return '(no name)';
  if (n.text) return n.text;
  const s = [(n.given || []).join(' '), n.family].filter(Boolean).join(' ');
  return s || '(name withheld)';
}

/* What the FHIR resource says for a compared field. */
function fhirValue(p, field) {
  if (!p) return '';
  const names = p.name || [];
  const addrs = p.address || [];
  const join = (a) => a.filter(Boolean).join('; ');
  switch (field) {
    case 'given': return join(names.map((n) => (n.given || []).join(' ')));
    case 'family': return join(names.map((n) => n.family));
    case 'birth': return p.birthDate || '';
    case 'sex': return p.gender || '';
    case 'phone': return join((p.telecom || []).filter((t) => t.system === 'phone')
      .map((t) => t.value));
    case 'postal': return join(addrs.map((a) => a.postalCode));
    case 'address': return join(addrs.map((a) =>
      [(a.line || []).join(' '), a.city].filter(Boolean).join(', ')));
    default: return '';
  }
}

function identifierText(i) {
  const sys = i.system === PHN_SYSTEM ? 'PHN'
    : (i.system || '').replace(/^.*\/NamingSystem\//, '');
  // The registry's status of the identifier (merged, retired, ...).
  const st = (i.extension || []).find((e) => /bc-identifier-status-extension$/
    .test(e.url || ''));
  const note = st && st.valueCode && st.valueCode !== 'active' ? ` (${st.valueCode})` : '';
  return `${sys}: ${i.value || '(withheld)'}${note}`;
}

function gradeBadge(g) {
  return h('span', { class: 'grade ' + (g || '') }, g || '—');
}

function levelClass(level) {
  if (!level) return 'missing';
  if (STRONG.has(level)) return 'agree';
  if (level === 'disagree') return 'disagree';
  return PARTIAL.has(level) ? 'partial' : 'partial';
}

function fmtWhen(s) {
  if (!s) return '';
  const d = new Date(s);
  if (isNaN(d)) return s;
  return d.toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$|:\d\dZ$/, ' UTC');
}
const fmtNum = (n, d = 2) => (n === undefined || n === null ? '—'
  : Number(n).toFixed(d));
const patientLink = (id) => h('a', { href: '#/client/' + encodeURIComponent(id),
  class: 'id' }, id);

/* ------------------------------------------------------------------ */
/* Screen: review queue                                                */
/* ------------------------------------------------------------------ */

function queryOf(hash) {
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

async function screenQueue(q) {
  const status = q.get('status') || 'open';
  const grade = q.get('grade') || '';
  const sort = q.get('sort') || '-found';
  const size = Math.min(100, Math.max(5, parseInt(q.get('size') || '20', 10) || 20));
  const page = Math.max(0, parseInt(q.get('page') || '0', 10) || 0);
  const go = (changes) => {
    const n = new URLSearchParams({ status, grade, sort, size, page });
    for (const [k, v] of Object.entries(changes)) n.set(k, v);
    location.hash = '#/queue?' + n.toString();
  };
  const select = (id, label, value, options, key) => h('div', {},
    h('label', { for: id }, label),
    h('select', { id, onchange: (e) => go({ [key]: e.target.value, page: 0 }) },
      options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));

  const root = main();
  root.replaceChildren(
    h('h2', {}, 'Review queue'),
    h('form', { class: 'filters', 'aria-label': 'Filter and sort the queue',
      onsubmit: (e) => e.preventDefault() },
      select('f-status', 'Status', status, [['open', 'Open'],
        ['not-duplicate', 'Not a duplicate'], ['merged', 'Merged']], 'status'),
      select('f-grade', 'Grade', grade, [['', 'Any grade'], ['certain', 'Certain'],
        ['probable', 'Probable'], ['possible', 'Possible']], 'grade'),
      select('f-sort', 'Sort by', sort, [['-found', 'Newest finding first'],
        ['-score', 'Highest score first'], ['score', 'Lowest score first']],
      'sort'),
      select('f-size', 'Per page', String(size), [['10', '10'], ['20', '20'],
        ['50', '50'], ['100', '100']], 'size')),
    h('p', { id: 'queue-note', class: 'sr-only' }, ''));
  say('Loading the queue…');
  const pairs = await listPairs({ status, grade, sort, count: size,
    offset: page * size });
  const ids = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const people = new Map();
  await Promise.all(ids.map(async (id) => {
    try { people.set(id, await getPatient(id)); } catch (e) { people.set(id, null); }
  }));
  const who = (id) => h('span', {}, h('span', { class: 'pname' },
    people.get(id) ? nameText(people.get(id)) : '(unreadable)'), ' ',
  h('span', { class: 'id' }, '(', id, ')'));

  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'cards',
    id: 'queue' },
  h('caption', { class: 'sr-only' }, `Pairs with status ${status}, page ${page + 1}`),
  h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Client'),
    h('th', { scope: 'col' }, 'Possible duplicate'),
    h('th', { scope: 'col', class: 'num' }, 'Score'),
    h('th', { scope: 'col' }, 'Grade'), h('th', { scope: 'col' }, 'Found'),
    h('th', { scope: 'col' }, 'Found by'), h('th', { scope: 'col' }, 'Status'),
    h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Action')))),
  h('tbody', {}, pairs.map((p) => h('tr', { 'data-pair': `${p.a} ${p.b}` },
    h('td', { 'data-label': 'Client' }, who(p.a)),
    h('td', { 'data-label': 'Possible duplicate' }, who(p.b)),
    h('td', { 'data-label': 'Score', class: 'num' }, fmtNum(p.score, 3)),
    h('td', { 'data-label': 'Grade' }, gradeBadge(p.grade)),
    h('td', { 'data-label': 'Found' }, fmtWhen(p.found)),
    h('td', { 'data-label': 'Found by' }, p.foundBy || ''),
    h('td', { 'data-label': 'Status' }, p.status),
    h('td', {}, h('a', { class: 'button', href: `#/pair/${encodeURIComponent(p.a)}/${encodeURIComponent(p.b)}`,
      'aria-label': `Compare ${nameText(people.get(p.a))} and ${nameText(people.get(p.b))}` },
    'Compare')))))));
  root.append(pairs.length ? table
    : h('p', { class: 'notice' }, 'No pairs' + (grade ? ` graded ${grade}` : '') +
      ` with status ${status}` + (page ? ' on this page.' : '.')));
  root.append(h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: page === 0,
      onclick: () => go({ page: page - 1 }) }, '← Previous page'),
    h('span', {}, `Page ${page + 1}`),
    h('button', { type: 'button', disabled: pairs.length < size,
      onclick: () => go({ page: page + 1 }) }, 'Next page →')));
  say(`${pairs.length} pair${pairs.length === 1 ? '' : 's'} shown.`);
}

/* ------------------------------------------------------------------ */
/* Screen: side by side, evidence and decisions                        */
/* ------------------------------------------------------------------ */

/* A value without case, spaces or punctuation: "compared as" is shown only
 * when the matcher's form differs from the display by more than that. */
const squash = (v) => String(v || '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

function comparisonTable(pair, A, B) {
  const ev = pair.evidence;
  const rows = FIELDS.map(([field, label]) => {
    const e = (ev && ev.fields[field]) || {};
    const va = fhirValue(A, field), vb = fhirValue(B, field);
    const lc = ev && !ev.withheld ? levelClass(e.level) : 'missing';
    const differ = va.toLowerCase() !== vb.toLowerCase();
    const cls = [lc === 'disagree' ? 'disagree' : (differ ? 'differ' : '')]
      .filter(Boolean).join(' ');
    const w = e.weight;
    const valueCell = (v, compared, lab) => h('td', { class: 'value mark',
      'data-label': lab }, v || h('span', { class: 'masked' }, '—'),
    compared && squash(compared) !== squash(v)
      ? h('span', { class: 'compared' }, 'compared as: ', compared) : null);
    return h('tr', { class: cls, 'data-field': field },
      h('th', { scope: 'row' }, label),
      valueCell(va, e.patientValue, 'Client A'),
      valueCell(vb, e.otherValue, 'Client B'),
      h('td', { 'data-label': 'Agreement' }, h('span', { class: 'level ' + lc },
        ev && ev.withheld ? 'withheld' : (e.level || 'not compared'))),
      h('td', { class: 'num', 'data-label': 'Weight' },
        h('span', { class: w > 0 ? 'w-pos' : (w < 0 ? 'w-neg' : '') },
          w === undefined ? '—' : (w > 0 ? '+' : '') + fmtNum(w))));
  });
  const idRow = h('tr', { 'data-field': 'identifier' },
    h('th', { scope: 'row' }, 'Identifiers'),
    h('td', { 'data-label': 'Client A' }, (A.identifier || []).map((i) =>
      h('div', {}, identifierText(i)))),
    h('td', { 'data-label': 'Client B' }, (B.identifier || []).map((i) =>
      h('div', {}, identifierText(i)))),
    h('td', { colspan: 2, class: 'help', 'data-label': 'Note' }, 'not scored'));
  const stateRow = h('tr', { 'data-field': 'state' }, h('th', { scope: 'row' }, 'Record'),
    h('td', { 'data-label': 'Client A' }, stateText(A)),
    h('td', { 'data-label': 'Client B' }, stateText(B)), h('td', { colspan: 2 }));
  const total = h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'Total'),
    h('td', { colspan: 2, 'data-label': 'Now' }, ev
      ? `score ${fmtNum(ev.score, 3)} now, graded ${ev.grade}` : ''),
    h('td', {}, ''), h('td', { class: 'num', 'data-label': 'Weight' },
      ev ? fmtNum(ev.weight) : '—'));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'cards', id: 'compare' },
    h('caption', { class: 'sr-only' }, 'The two clients field by field, with the ' +
      'agreement the matcher found and its weight'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'),
      h('th', { scope: 'col' }, 'Client A ', h('span', { class: 'id' }, pair.a)),
      h('th', { scope: 'col' }, 'Client B ', h('span', { class: 'id' }, pair.b)),
      h('th', { scope: 'col' }, 'Agreement'),
      h('th', { scope: 'col', class: 'num' }, 'Weight'))),
    h('tbody', {}, rows, idRow, stateRow, total)));
}

function stateText(p) {
  const by = (p.link || []).find((l) => l.type === 'replaced-by');
  if (by) return h('span', {}, 'merged into ', patientLink(idOf({ valueReference: by.other })));
  return p.active === false ? 'inactive' : 'active';
}

function historyList(pair) {
  if (!pair.history.length) return h('p', { class: 'help', id: 'history-empty' }, 'No decision yet.');
  const words = { 'not-duplicate': 'Marked not a duplicate', open: 'Reopened',
    merged: 'Merged', unmerged: 'Unmerged', note: 'Note' };
  return h('ol', { class: 'history', id: 'history' }, pair.history.map((d) => h('li', {},
    h('b', {}, words[d.action] || d.action), ' ',
    h('span', { class: 'when' }, fmtWhen(d.decided), d.by ? ' by ' + d.by : ''),
    d.comment ? h('span', { class: 'comment' }, '“', d.comment, '”') : null)));
}

/* The identifier a BC merge names a client by: the PHN, else the first. */
function mergeIdentifier(p) {
  const ids = (p.identifier || []).filter((i) => i.system && i.value);
  return ids.find((i) => i.system === PHN_SYSTEM) || ids[0];
}

function mergeBundle(survivor, gone) {
  const s = mergeIdentifier(survivor), g = mergeIdentifier(gone);
  const uuid = () => 'urn:uuid:' + crypto.randomUUID();
  return {
    resourceType: 'Bundle', type: 'collection', entry: [
      { fullUrl: uuid(), resource: params({ name: 'messageId',
        valueString: crypto.randomUUID() }) },
      { fullUrl: uuid(), resource: { resourceType: 'Patient',
        identifier: [{ use: 'official', system: s.system, value: s.value }],
        link: [{ extension: [{ url: MERGE_STATUS_EXT, valueCode: 'obsolete' }],
          other: { identifier: { system: g.system, value: g.value } },
          type: 'replaces' }] } }],
  };
}

async function screenPair(a, b) {
  say('Loading the pair…');
  const [pairs, A, B] = await Promise.all([
    listPairs({ patient: a, other: b, evidence: true, history: true }),
    getPatient(a, true), getPatient(b, true)]);
  const pair = pairs[0];
  const root = main();
  if (!pair) {
    root.replaceChildren(h('h2', {}, 'Pair'), h('p', { class: 'notice' },
      `Patient/${a} and Patient/${b} are not a pair of the review list.`));
    return;
  }
  const comment = h('textarea', { id: 'comment', name: 'comment',
    maxlength: 2000, 'aria-describedby': 'comment-help' });
  const decide = async (resolution, label) => {
    const p = [ref('patient', pair.a), ref('other', pair.b),
      { name: 'resolution', valueCode: resolution }];
    if (comment.value.trim()) p.push({ name: 'comment', valueString: comment.value.trim() });
    await api('POST', '/Patient/$resolve-duplicate', params(...p), label);
    say('Saved: ' + label + '.');
    await screenPair(a, b);
    flash(resolution === 'open' ? 'The pair is open again.'
      : 'The pair is marked not a duplicate.');
  };
  const actions = h('div', { class: 'actions' });
  const mergeBox = h('div', { id: 'merge-box' });
  pair.comment = () => comment.value.trim();
  if (pair.status === 'open') {
    actions.append(
      h('button', { type: 'button', id: 'not-duplicate',
        onclick: guarded(() => decide('not-duplicate', 'mark the pair not a duplicate')) },
      'Not a duplicate'),
      h('button', { type: 'button', id: 'merge-start', class: 'primary',
        onclick: () => mergeChooser(mergeBox, pair, A, B) }, 'Merge…'));
  } else if (pair.status === 'not-duplicate') {
    actions.append(h('button', { type: 'button', id: 'reopen',
      onclick: guarded(() => decide('open', 'reopen the pair')) }, 'Reopen for review'));
  } else if (pair.status === 'merged') {
    actions.append(h('button', { type: 'button', id: 'unmerge', class: 'danger',
      onclick: guarded(() => unmerge(pair, A, B)) }, 'Unmerge'));
  }
  actions.append(h('button', { type: 'button', id: 'add-note',
    onclick: guarded(async () => {
      if (!pair.comment()) throw new ApiError(0, 'Write the note in the comment box first.');
      await addNote(pair, pair.comment());
      await screenPair(a, b);
      flash('The note is added to the history.');
    }) }, 'Add note'));
  const withheld = pair.evidence && pair.evidence.withheld
    ? h('p', { class: 'notice' }, 'The field-by-field evidence is withheld: a ' +
      'client of this pair is restricted and you are not privileged to see it.')
    : null;
  root.replaceChildren(
    h('p', {}, h('a', { href: '#/queue?status=' + pair.status }, '← Back to the queue')),
    h('h2', {}, nameText(A), ' and ', nameText(B)),
    h('ul', { class: 'meta' },
      h('li', {}, 'Score when found ', h('b', {}, fmtNum(pair.score, 3))),
      h('li', {}, 'Grade ', gradeBadge(pair.grade)),
      h('li', {}, 'Found ', h('b', {}, fmtWhen(pair.found)), ' by ',
        h('b', {}, pair.foundBy || '?')),
      h('li', {}, 'Status ', h('b', { id: 'pair-status' }, pair.status))),
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'cmp-h' },
        h('h3', { id: 'cmp-h' }, 'Side by side: why the matcher paired them'),
        withheld, comparisonTable(pair, A, B),
        h('p', { class: 'help' }, 'Each weight is log2(m/u) of the agreement: ' +
          'positive counts for one person, negative against. Highlighted rows differ.')),
      h('section', { class: 'panel', 'aria-labelledby': 'dec-h' },
        h('h3', { id: 'dec-h' }, 'Decision'),
        h('div', { class: 'field' }, h('label', { for: 'comment' }, 'Comment (optional)'),
          comment, h('span', { id: 'comment-help', class: 'help' },
            'Stored with the decision (a merge or unmerge too) and shown in the ' +
            'history; Add note stores it alone.')),
        actions, mergeBox,
        h('h3', {}, 'History of the pair'), historyList(pair))));
  say('');
}

function flash(text) {
  const m = main();
  const n = h('p', { class: 'notice ok', id: 'flash', role: 'status' }, text);
  m.prepend(n);
}

function mergeChooser(box, pair, A, B) {
  const radio = (id, p, label) => h('label', { class: 'radio' },
    h('input', { type: 'radio', name: 'survivor', value: id, id: 'survivor-' + id }),
    ' ', label, ': ', nameText(p), ' ', h('span', { class: 'id' }, '(', id, ')'));
  const preview = h('div', { id: 'merge-preview', 'aria-live': 'polite' });
  const missing = [A, B].filter((p) => !mergeIdentifier(p));
  box.replaceChildren(h('fieldset', {},
    h('legend', {}, 'Which record survives?'),
    radio(pair.a, A, 'Client A'), radio(pair.b, B, 'Client B'),
    missing.length ? h('p', { class: 'error' }, 'A client has no identifier to ' +
      'name it by in a merge; it cannot be merged from here.') : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'merge-preview-btn', disabled: missing.length > 0,
        onclick: () => {
          const chosen = box.querySelector('input[name=survivor]:checked');
          if (!chosen) { showError('Choose the record that survives first.'); return; }
          showError('');
          const [S, G] = chosen.value === pair.a ? [A, B] : [B, A];
          showPreview(preview, pair, S, G);
        } }, 'Preview the merge'),
      h('button', { type: 'button', onclick: () => box.replaceChildren() }, 'Cancel')),
    preview));
  box.querySelector('input').focus();
}

function showPreview(preview, pair, S, G) {
  const moved = (G.identifier || []).map(identifierText);
  preview.replaceChildren(h('div', { class: 'preview' },
    h('h4', {}, 'After the merge'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Survivor'), h('dd', {}, nameText(S), ' ', h('span', { class: 'id' }, S.id)),
      h('dt', {}, 'Demographics'), h('dd', {}, 'the survivor\'s, unchanged: ',
        [fhirValue(S, 'birth'), fhirValue(S, 'sex'), fhirValue(S, 'address')]
          .filter(Boolean).join(' · ')),
      h('dt', {}, 'Identifiers'), h('dd', {}, (S.identifier || []).map(identifierText)
        .concat(moved.map((m) => m + ' (merged)')).join('; ')),
      h('dt', {}, 'Merged away'), h('dd', {}, nameText(G), ' ', h('span', { class: 'id' }, G.id),
        ' becomes inactive, replaced by the survivor; its source records move to the survivor')),
    h('p', {}, 'An unmerge from this page undoes it.'),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'merge-confirm',
        onclick: guarded(async () => {
          if (!sessionStorage.getItem('cr-user')) {
            throw new ApiError(0, 'Enter your user ID (top right) first: the ' +
              'registry records who merged.');
          }
          const note = pair.comment();
          await api('POST', '/Patient/$MergePatient', mergeBundle(S, G),
            'merge the two clients');
          sessionStorage.setItem('cr-merge:' + [pair.a, pair.b].sort().join(' '),
            JSON.stringify({ survivor: S.id, gone: G.id,
              s: mergeIdentifier(S), g: mergeIdentifier(G) }));
          const noteError = await noteAfter(pair, note);
          await screenPair(pair.a, pair.b);
          flash(`Merged: ${G.id} now points to ${S.id}.`);
          if (noteError) throw noteError;
        }) }, 'Confirm the merge'))));
  preview.querySelector('button').focus();
}

/* A comment alone: a note in the pair's history, its status kept (what a
 * merge or unmerge was done for: the BC merge message has no place for
 * it, so it follows the merge in its own request). */
async function addNote(pair, text) {
  await api('POST', '/Patient/$resolve-duplicate', params(ref('patient', pair.a),
    ref('other', pair.b), { name: 'comment', valueString: text }),
  'add the note to the pair\'s history');
}

/* The note of a merge or unmerge that is done: its failure is returned
 * (to be shown after the new state), not thrown. */
async function noteAfter(pair, note) {
  if (!note) return null;
  try { await addNote(pair, note); return null; } catch (e) { return e; }
}

async function unmerge(pair, A, B) {
  if (!sessionStorage.getItem('cr-user')) {
    throw new ApiError(0, 'Enter your user ID (top right) first: the registry ' +
      'records who unmerged.');
  }
  // The survivor is the one the other's replaced-by link points to.
  const pointsTo = (p) => {
    const l = (p.link || []).find((x) => x.type === 'replaced-by');
    return l ? idOf({ valueReference: l.other }) : null;
  };
  let S, G;
  if (pointsTo(A) === B.id) [S, G] = [B, A];
  else if (pointsTo(B) === A.id) [S, G] = [A, B];
  else throw new ApiError(0, 'Neither client points to the other as merged ' +
    'into it: this merge cannot be undone from here.');
  const saved = JSON.parse(sessionStorage.getItem('cr-merge:' +
    [pair.a, pair.b].sort().join(' ')) || 'null');
  const body = mergeBundle(S, G);
  if (saved && saved.survivor === S.id) {
    body.entry[1].resource.identifier[0] = { use: 'official', ...saved.s };
    body.entry[1].resource.link[0].other.identifier = saved.g;
  }
  const note = pair.comment();
  await api('POST', '/Patient/$UnmergePatient', body, 'unmerge the two clients');
  const noteError = await noteAfter(pair, note);
  await screenPair(pair.a, pair.b);
  flash(`Unmerged: ${G.id} is a client of its own again.`);
  if (noteError) throw noteError;
}

/* ------------------------------------------------------------------ */
/* Screens: find a client, a client, an audit trail                    */
/* ------------------------------------------------------------------ */

function screenFind(q) {
  const field = (id, label, attrs) => h('div', { class: 'field' },
    h('label', { for: id }, label), h('input', { id, name: id, type: 'text', ...attrs }));
  const results = h('div', { id: 'find-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', id: 'find-form', role: 'search',
    onsubmit: guarded(async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      const sp = new URLSearchParams();
      const phn = (f.get('phn') || '').replace(/\s+/g, '');
      const ident = (f.get('ident') || '').trim();
      if (phn) sp.set('identifier', PHN_SYSTEM + '|' + phn);
      else if (ident) sp.set('identifier', ident);
      else {
        for (const k of ['family', 'given', 'birthdate']) {
          const v = (f.get(k) || '').trim();
          if (v) sp.set(k, v);
        }
      }
      if (![...sp.keys()].length) {
        throw new ApiError(0, 'Enter a PHN, an identifier or a name to search for.');
      }
      sp.set('_count', '20');
      const b = await api('GET', '/Patient?' + sp.toString(), undefined, 'search');
      const list = (b.entry || []).map((e) => e.resource)
        .filter((r) => r && r.resourceType === 'Patient');
      results.replaceChildren(list.length ? h('div', { class: 'table-wrap' },
        h('table', { class: 'cards' }, h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Birth date'),
          h('th', { scope: 'col' }, 'Identifiers'), h('th', { scope: 'col' }, 'Id'))),
        h('tbody', {}, list.map((p) => h('tr', {},
          h('td', { 'data-label': 'Name' }, h('a', { href: '#/client/' + p.id }, nameText(p))),
          h('td', { 'data-label': 'Birth date' }, p.birthDate || ''),
          h('td', { 'data-label': 'Identifiers' }, (p.identifier || []).map(identifierText).join('; ')),
          h('td', { 'data-label': 'Id', class: 'id' }, p.id))))))
        : h('p', { class: 'notice' }, 'No client found.'));
      say(`${list.length} client${list.length === 1 ? '' : 's'} found.`);
    }) },
  field('phn', 'PHN', { inputmode: 'numeric', autocomplete: 'off', value: q.get('phn') || '' }),
  field('ident', 'Other identifier (system|value)', { autocomplete: 'off' }),
  field('family', 'Family name', {}), field('given', 'Given name', {}),
  h('div', { class: 'field' }, h('label', { for: 'birthdate' }, 'Birth date'),
    h('input', { id: 'birthdate', name: 'birthdate', type: 'date' })),
  h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Find')));
  main().replaceChildren(h('h2', {}, 'Find a client'),
    h('p', { class: 'help' }, 'By PHN, by another identifier, or by name ' +
      '(family and given name, with a birth date to narrow it).'), form, results);
  form.querySelector('input').focus();
}

async function screenClient(id) {
  say('Loading the client…');
  const [p, hist] = await Promise.all([getPatient(id, true),
    api('GET', `/Patient/${encodeURIComponent(id)}/_history`, undefined,
      'read the client\'s history')]);
  const pairs = [];
  for (const status of ['open', 'not-duplicate', 'merged']) {
    try { pairs.push(...await listPairs({ patient: id, status, count: 50 })); } catch (e) {
      if (e.status !== 403) throw e;
    }
  }
  const versions = (hist.entry || []).map((e) => e.resource).filter(Boolean);
  main().replaceChildren(
    h('h2', {}, nameText(p), ' ', h('span', { class: 'id' }, p.id)),
    h('div', { class: 'cols' },
      h('section', { class: 'panel' }, h('h3', {}, 'Current record'),
        h('dl', { class: 'kv' },
          FIELDS.map(([f, label]) => [h('dt', {}, label),
            h('dd', {}, fhirValue(p, f) || '—')]),
          h('dt', {}, 'Identifiers'), h('dd', {}, (p.identifier || []).map((i) =>
            h('div', {}, identifierText(i)))),
          h('dt', {}, 'State'), h('dd', {}, stateText(p)),
          h('dt', {}, 'Links'), h('dd', {}, (p.link || []).length ? (p.link || []).map((l) =>
            h('div', {}, l.type, ' ', l.other && l.other.reference
              ? patientLink(idOf({ valueReference: l.other })) : '(identifier)')) : 'none')),
        h('p', {}, h('a', { class: 'button', href: '#/audit/' + encodeURIComponent(id) },
          'Audit trail (administrators)'))),
      h('section', {}, h('h3', {}, 'Possible duplicates'),
        pairs.length ? h('ul', {}, pairs.map((x) => {
          const other = x.a === id ? x.b : x.a;
          return h('li', {}, h('a', { href: `#/pair/${x.a}/${x.b}` }, 'with ', other),
            ' — ', x.status, ', score ', fmtNum(x.score, 3), ' ', gradeBadge(x.grade));
        })) : h('p', { class: 'help' }, 'None listed.'),
        h('h3', {}, 'History'),
        h('ol', { class: 'history' }, versions.map((v) => h('li', {},
          h('b', {}, 'Version ', (v.meta || {}).versionId || '?'), ' ',
          h('span', { class: 'when' }, fmtWhen((v.meta || {}).lastUpdated)), ' — ',
          nameText(v), v.birthDate ? ', born ' + v.birthDate : '',
          v.active === false ? ' (inactive)' : ''))))));
  say('');
}

async function screenAudit(id) {
  say('Loading the audit trail…');
  const b = await api('GET', '/AuditEvent?patient=' + encodeURIComponent(id) +
    '&_count=100', undefined, 'read the audit trail');
  const events = (b.entry || []).map((e) => e.resource).filter(Boolean);
  // The end user (altId), else the certificate or token client (name),
  // with the organisation.
  const who = (ev) => (ev.agent || []).map((a) => {
    const org = a.who && a.who.identifier && a.who.identifier.value;
    const main = a.altId || a.name;
    return [main, org && org !== main ? `(${org})` : null].filter(Boolean).join(' ');
  }).filter(Boolean).join(', ');
  main().replaceChildren(
    h('p', {}, h('a', { href: '#/client/' + encodeURIComponent(id) }, '← Back to the client')),
    h('h2', {}, 'Audit trail of ', h('span', { class: 'id' }, id)),
    events.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'cards', id: 'audit' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'),
        h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Operation'),
        h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'Outcome'))),
      h('tbody', {}, events.map((ev) => h('tr', {},
        h('td', { 'data-label': 'When' }, fmtWhen(ev.recorded)),
        h('td', { 'data-label': 'Action' }, ev.action || ''),
        h('td', { 'data-label': 'Operation' }, (ev.subtype || []).map((s) => s.code).join(', ')
          || (ev.type && ev.type.code) || ''),
        h('td', { 'data-label': 'Who' }, who(ev)),
        h('td', { 'data-label': 'Outcome' }, ev.outcomeDesc || ev.outcome || ''))))))
      : h('p', { class: 'notice' }, 'No audit records.'));
  say('');
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

/* fn run with its failures shown in plain words. */
function guarded(fn) {
  return async (...args) => {
    showError('');
    try { await fn(...args); } catch (e) {
      showError(e instanceof ApiError ? e.message : 'Something went wrong in ' +
        'the console: ' + e.message);
      say('');
    }
  };
}

const route = guarded(async () => {
  const hash = location.hash || '#/queue';
  const path = hash.split('?')[0].slice(2).split('/').map(decodeURIComponent);
  const section = path[0] === 'find' || path[0] === 'client' || path[0] === 'audit'
    ? 'find' : 'queue';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // A screen that fails leaves no other screen's content behind.
  main().replaceChildren(h('p', { class: 'help' }, 'Loading…'));
  if (path[0] === 'pair' && path[1] && path[2]) await screenPair(path[1], path[2]);
  else if (path[0] === 'find') screenFind(queryOf(hash));
  else if (path[0] === 'client' && path[1]) await screenClient(path[1]);
  else if (path[0] === 'audit' && path[1]) await screenAudit(path[1]);
  else await screenQueue(queryOf(hash));
  document.title = (document.querySelector('main h2') || {}).textContent +
    ' · Client Registry console';
});

window.addEventListener('hashchange', () => { showError(''); route().then(() =>
  main().focus({ preventScroll: true })); });
window.addEventListener('DOMContentLoaded', () => {
  const u = document.getElementById('user-id');
  u.value = sessionStorage.getItem('cr-user') || '';
  u.addEventListener('change', () => {
    const v = u.value.trim();
    if (v) sessionStorage.setItem('cr-user', v); else sessionStorage.removeItem('cr-user');
  });
  document.getElementById('user-form').addEventListener('submit', (e) => {
    e.preventDefault(); u.dispatchEvent(new Event('change'));
  });
  route();
});
