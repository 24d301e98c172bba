// tccd's dashboard: a page of plain JavaScript, no libraries. Every datum
// comes from tccd's JSON API (POST /api/v1/<Admin method>, the same admin
// logic and authorization as tccctl) or from /metrics (the live graph).
'use strict';

const $ = (selector) => document.querySelector(selector);
const FINAL = ['COMMITTED', 'ROLLED_BACK'];
const STATES = ['TRYING', 'COMMITTING', 'COMMITTED', 'ROLLING_BACK', 'ROLLED_BACK', 'RUNNING',
                'COMPENSATING'];
let refreshTimer = null;
let history = [];  // {t, finished, durationSum, durationCount} from /metrics.

function token() { return sessionStorage.getItem('tccd-token') || ''; }

// The request's bytes fields (gid, target, reason...) go as base64 of UTF-8.
function b64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary);
}

async function api(method, body) {
  const headers = {'Content-Type': 'application/json'};
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  const response = await fetch('/api/v1/' + method,
                               {method: 'POST', headers, body: JSON.stringify(body || {})});
  const reply = await response.json().catch(() => ({message: response.statusText}));
  if (!response.ok) {
    throw new Error(`${method}: ${reply.code || response.status}: ${reply.message}`);
  }
  return reply;
}

function show(text, kind) {
  const box = $('#message');
  box.textContent = text || '';
  box.className = text ? kind : '';
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function stateName(state) { return String(state || '').replace(/^(TRANSACTION|BRANCH)_STATE_/, ''); }
function stateTag(state) {
  const name = stateName(state);
  return el('span', {class: 'state state-' + name}, name);
}
function when(ms) {
  const n = Number(ms);
  return n > 0 ? new Date(n).toISOString().replace('T', ' ').replace('Z', ' UTC') : '—';
}
function age(ms) {
  let s = Math.round(Number(ms) / 1000);
  if (!(s > 0)) return '0s';
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= size) { parts.push(Math.floor(s / size) + unit); s %= size; }
  }
  return parts.slice(0, 2).join(' ');
}
function gidLink(gid) {
  return el('a', {href: '#/tx/' + encodeURIComponent(gid), class: 'gid-link', 'data-gid': gid},
            gid);
}
function table(id, headings, rows) {
  return el('table', {id},
            el('thead', {}, el('tr', {}, headings.map((h) => el('th', {scope: 'col'}, h)))),
            el('tbody', {}, rows.length ? rows :
                el('tr', {}, el('td', {colspan: headings.length}, 'none'))));
}
function render(...nodes) {
  $('#main').replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
}

// ---- Overview -------------------------------------------------------------

function sumSamples(text, name) {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return total;
}

async function sampleMetrics() {
  const text = await (await fetch('/metrics')).text();
  history.push({t: Date.now() / 1000,
                finished: sumSamples(text, 'tcc_transactions_finished_total'),
                durationSum: sumSamples(text, 'tcc_transaction_duration_seconds_sum'),
                durationCount: sumSamples(text, 'tcc_transaction_duration_seconds_count')});
  if (history.length > 61) history.shift();
}

// Per interval between two samples: finished per second, mean duration.
function series() {
  const rate = [], latency = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1], b = history[i];
    const done = b.durationCount - a.durationCount;
    rate.push((b.finished - a.finished) / Math.max(b.t - a.t, 0.001));
    latency.push(done > 0 ? 1000 * (b.durationSum - a.durationSum) / done : 0);
  }
  return {rate, latency};
}

function chart(id, title, unit, values) {
  // The samples so far fill the width (up to two minutes of them).
  const width = 420, height = 120, max = Math.max(1e-9, ...values);
  const step = width / Math.max(values.length - 1, 1);
  const points = values.map((v, i) =>
      `${(i * step).toFixed(1)},${(height - v / max * (height - 8)).toFixed(1)}`).join(' ');
  const last = values.length ? values[values.length - 1] : 0;
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}, last two minutes`);
  svg.innerHTML = `<line x1="0" y1="${height - 1}" x2="${width}" y2="${height - 1}"/>` +
                  `<polyline points="${points}"/>`;
  return el('div', {class: 'chart', id},
            el('div', {}, el('strong', {}, title), ` now ${last.toFixed(1)} ${unit}, ` +
                          `peak ${Math.max(0, ...values).toFixed(1)} ${unit}`),
            svg);
}

async function overview() {
  const [stats] = await Promise.all([api('Stats'), sampleMetrics()]);
  const byState = stats.transactionsByState || {};
  const {rate, latency} = series();
  const failing = (stats.failingTargets || []).map((t) => el('tr', {},
      el('td', {}, t.target), el('td', {class: 'num'}, t.failingBranches),
      el('td', {class: 'num'}, t.failedAttempts), el('td', {class: 'num'}, t.failingBackQueries),
      el('td', {class: 'error-text'}, t.lastError),
      el('td', {}, el('a', {href: '#/list?target=' + encodeURIComponent(t.target)}, 'list'))));
  render(
      el('h1', {}, 'Overview'),
      el('div', {class: 'cards', id: 'state-counts'},
         STATES.filter((s) => byState[s] !== undefined || FINAL.includes(s) || s === 'TRYING')
             .map((s) => el('a', {class: 'card', href: '#/list?state=' + s},
                            el('div', {}, stateTag(s)),
                            el('div', {class: 'value'}, byState[s] || 0))),
         el('a', {class: 'card', href: '#/list?stuck=1', id: 'stuck-card'},
            el('div', {class: 'stuck'}, 'STUCK'), el('div', {class: 'value'}, stats.stuck || 0)),
         el('div', {class: 'card'}, el('div', {}, 'Oldest unfinished'),
            el('div', {class: 'value'}, age(stats.oldestUnfinishedAgeMs)))),
      el('h2', {}, 'Throughput and latency (from /metrics every 2 s)'),
      el('div', {class: 'charts'},
         chart('chart-throughput', 'Finished transactions', '/s', rate),
         chart('chart-latency', 'Mean time to finish', 'ms', latency)),
      el('h2', {}, 'Failing participants'),
      table('failing-targets', ['Target', 'Failing branches', 'Failed attempts',
                                'Failing back-queries', 'Last error', ''], failing));
  schedule(overview, 2000);
}

// ---- List -----------------------------------------------------------------

// "90s", "5m", "2h", "1d" (as tccctl list --older-than) to milliseconds.
function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`older than "${text}": give a number and a unit, e.g. 90s, 5m, 2h, 1d`);
  const unit = {ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7}[match[2]];
  return Math.round(Number(match[1]) * unit);
}

function listRequest(params) {
  const request = {};
  const states = params.getAll('state').flatMap((s) => s.split(',')).filter(Boolean);
  if (states.length) request.states = states.map((s) => 'TRANSACTION_STATE_' + s);
  if (params.get('stuck')) request.stuckOnly = true;
  if (params.get('older')) request.olderThanMs = String(parseDuration(params.get('older')));
  if (params.get('prefix')) request.gidPrefix = b64(params.get('prefix'));
  if (params.get('target')) request.target = b64(params.get('target'));
  if (params.get('limit')) request.pageSize = Number(params.get('limit'));
  if (params.get('page')) request.pageToken = params.get('page');
  return request;
}

function filterForm(params) {
  const chosen = params.getAll('state').flatMap((s) => s.split(','));
  const input = (name, label, placeholder) => el('label', {}, label + ' ',
      el('input', {name, id: 'filter-' + name, value: params.get(name) || '', placeholder,
                   size: 14}));
  const form = el('form', {class: 'filters', id: 'filters'},
      el('fieldset', {}, el('legend', {}, 'State'),
         STATES.map((s) => el('label', {}, el('input', Object.assign(
             {type: 'checkbox', name: 'state', value: s},
             chosen.includes(s) ? {checked: ''} : {})), ' ' + s + ' '))),
      el('label', {}, el('input', Object.assign({type: 'checkbox', name: 'stuck', value: '1',
                                                 id: 'filter-stuck'},
                                                params.get('stuck') ? {checked: ''} : {})),
         ' stuck only'),
      input('older', 'Older than', '5m'), input('prefix', 'Gid prefix', 'pay-'),
      input('target', 'Target', 'host:port'), input('limit', 'Page size', '50'),
      el('button', {type: 'submit', id: 'filter-apply'}, 'Apply'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) next.append(key, value);
    location.hash = '#/list?' + next.toString();
  });
  return form;
}

async function list(params) {
  const reply = await api('ListTransactions', listRequest(params));
  const rows = (reply.transactions || []).map((t) => el('tr', {'data-gid': t.gid},
      el('td', {}, gidLink(t.gid)), el('td', {}, stateTag(t.state)),
      el('td', {}, t.stuck ? el('span', {class: 'stuck'}, 'STUCK') : ''),
      el('td', {}, t.mode), el('td', {class: 'num'}, (t.branches || []).length),
      el('td', {}, when(t.createdUnixMs)), el('td', {}, when(t.updatedUnixMs)),
      el('td', {class: 'error-text'}, t.decisionReason)));
  const next = new URLSearchParams(params);
  next.set('page', reply.nextPageToken);
  render(el('h1', {}, 'Transactions'), filterForm(params),
         table('transactions', ['Gid', 'State', 'Stuck', 'Mode', 'Branches', 'Created',
                                'Updated', 'Decision'], rows),
         reply.nextPageToken ? el('p', {}, el('a', {href: '#/list?' + next, id: 'next-page'},
                                               'Next page')) : null);
}

// ---- One transaction ------------------------------------------------------

function branchRows(t) {
  return (t.branches || []).map((b) => el('tr', {'data-branch': b.branchId},
      el('td', {}, b.branchId), el('td', {}, b.target), el('td', {}, b.action),
      el('td', {}, stateTag(b.state)), el('td', {}, (b.dependsOn || []).join(', ') || '—'),
      el('td', {class: 'num'}, b.attempts), el('td', {class: 'error-text'}, b.lastError || '—'),
      el('td', {}, when(b.nextRetryUnixMs))));
}

function fields(pairs) {
  return el('dl', {class: 'fields'},
            pairs.map(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
}

function actionForms(gid) {
  const retry = el('form', {id: 'retry-form'},
      el('p', {}, 'Call the failing participants again now instead of waiting for the backoff.'),
      el('button', {type: 'submit', id: 'retry-button'}, 'Retry now'));
  retry.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reply = await api('RetryNow', {gid: b64(gid), operator: b64('dashboard')});
    show(`Retry scheduled (${reply.transactions} transaction).`, 'ok');
    await transaction(gid);
  });
  const resolve = el('form', {id: 'resolve-form'},
      el('label', {}, 'Resolve as ', el('select', {name: 'action', id: 'resolve-action'},
          ['COMMIT', 'ROLLBACK', 'MARK_COMMITTED', 'MARK_ROLLED_BACK'].map((a) =>
              el('option', {value: 'RESOLVE_ACTION_' + a}, a)))),
      el('p', {}, el('label', {}, 'Reason (required, kept in the timeline)', el('br'),
          el('textarea', {name: 'reason', id: 'resolve-reason', rows: 2, required: '',
                          maxlength: 1024}))),
      el('button', {type: 'submit', id: 'resolve-button'}, 'Resolve'));
  resolve.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(resolve);
    const reply = await api('Resolve', {gid: b64(gid), action: data.get('action'),
                                        reason: b64(data.get('reason')),
                                        operator: b64('dashboard')});
    show(`Resolved: now ${stateName(reply.state)}.`, 'ok');
    await transaction(gid);
  });
  return el('div', {class: 'actions'}, retry, resolve);
}

async function transaction(gid) {
  const detail = await api('DescribeTransaction', {gid: b64(gid)});
  const t = detail.transaction;
  const bq = detail.backQuery;
  const final = FINAL.includes(stateName(t.state));
  render(
      el('h1', {}, 'Transaction ', el('span', {id: 'tx-gid'}, t.gid)),
      fields([['State', el('span', {id: 'tx-state'}, stateTag(t.state))],
              ['Stuck', t.stuck ? el('span', {class: 'stuck', id: 'tx-stuck'}, 'STUCK') : 'no'],
              ['Mode', t.mode], ['Created', when(t.createdUnixMs)],
              ['Updated', when(t.updatedUnixMs)], ['Deadline', when(t.deadlineUnixMs)],
              ['Timeout', t.timeoutMs + ' ms'], ['Status endpoint', t.statusEndpoint || '—'],
              ['Owner', (t.owner || '— (single instance)') + (t.owner ? `, epoch ${t.epoch}` : '')],
              ['Decision', t.decisionReason || '—']]),
      el('h2', {}, t.mode === 'SAGA' ? 'Steps' : 'Branches'),
      table('branches', ['Id', 'Target', 'Action', 'State', 'Depends on', 'Attempts',
                         'Last error', 'Next retry'], branchRows(t)),
      bq ? [el('h2', {}, 'Back-query'),
            fields([['Endpoint', bq.endpoint], ['Attempts', `${bq.attempts} (${bq.failedAttempts} failed)`],
                    ['Last error', bq.lastError || '—'], ['Next retry', when(bq.nextRetryUnixMs)]])]
         : null,
      final ? null : [el('h2', {}, 'Actions'), actionForms(t.gid)],
      el('h2', {}, 'Timeline'),
      table('timeline', ['When', 'Event', 'Detail', 'By'], (detail.timeline || []).map((e) =>
          el('tr', {}, el('td', {}, when(e.unixMs)), el('td', {}, e.kind),
             el('td', {class: 'error-text'}, e.detail), el('td', {}, e.actor || '')))));
  if (!final) schedule(() => transaction(gid), 2000);
}

// ---- Routing --------------------------------------------------------------

function schedule(fn, ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => fn().catch((e) => show(e.message, 'error')), ms);
}

async function route() {
  clearTimeout(refreshTimer);
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  show('');
  try {
    if (path.startsWith('/tx/')) await transaction(decodeURIComponent(path.slice(4)));
    else if (path === '/list') await list(new URLSearchParams(query || ''));
    else await overview();
  } catch (error) {
    show(error.message, 'error');
  }
}

$('#token').value = token();
$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('tccd-token', $('#token').value.trim());
  route();
});
window.addEventListener('hashchange', route);
// Errors of the action forms' handlers.
window.addEventListener('unhandledrejection', (event) => show(event.reason.message, 'error'));
route();
