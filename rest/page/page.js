// The status page: reads the API token from the URL's fragment (#token=...,
// which the browser never sends to the server) and calls the REST API with
// it as a bearer token. Without a token it shows nothing of the node.
'use strict';

const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(tbody, cells) {
  const tr = el('tr');
  for (const c of cells) tr.appendChild(el('td', c));
  tbody.appendChild(tr);
}

function fill(id, rows, width, empty) {
  const tbody = document.querySelector('#' + id + ' tbody');
  tbody.textContent = '';
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', empty, 'empty');
    td.colSpan = width;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  for (const r of rows) row(tbody, r);
}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token } });
  const body = await res.json();
  if (!res.ok) throw new Error(path + ': ' + res.status + ' ' + (body.error || ''));
  return body;
}

function status(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'error' : 'muted';
}

async function refresh() {
  const addr = await api('/addr');
  document.getElementById('node-id').textContent = addr.id;
  document.getElementById('node-address').textContent = addr.address;
  document.getElementById('node-port').textContent = addr.port;

  const ifs = await api('/ifs');
  const rows = [];
  for (const i of ifs.interfaces)
    for (const r of i.routes)
      rows.push([i.index, i.name, r.family, r.nic || r.link_local || '', r.external || '',
                 r.port, r.nat, r.delta.type + (r.delta.value ? ' ' + r.delta.value : '')]);
  fill('ifs', rows, 8, 'no interface loaded yet');

  const peers = await api('/peers');
  fill('peers', peers.peers.map(p => [
    p.id,
    p.connections.map(c => c.strategy + (c.path ? ' ' + c.path : '') + ' ' + c.remote).join(', '),
    p.names.join(', '),
    p.msgs_in + ' msgs / ' + p.bytes_in + ' B',
    p.msgs_out + ' msgs / ' + p.bytes_out + ' B']), 5, 'no peers');

  const cons = await api('/cons');
  fill('cons', cons.connections.map(c => [
    c.name, c.peer, c.strategy || '', c.path || '', c.family || '', c.open ? 'yes' : 'no',
    (c.msgs_in || 0) + ' / ' + (c.msgs_out || 0),
    (c.bytes_in || 0) + ' / ' + (c.bytes_out || 0)]), 8, 'no named connections');
  status('updated ' + new Date().toLocaleTimeString(), false);
}

async function loop() {
  if (!token) {
    status('no token: open the URL the node printed (…/#token=…)', true);
    return;
  }
  try {
    await refresh();
  } catch (e) {
    status(String(e.message || e), true);
  }
  setTimeout(loop, 2000);
}

document.addEventListener('DOMContentLoaded', loop);

// Says in the DOM whether the matrix picture loaded (the browser test reads it).
function markMatrix() {
  const img = document.getElementById('nat-matrix-img');
  if (!img) return;
  const done = () => { img.dataset.loaded = img.naturalWidth > 0 ? 'yes' : 'no'; };
  if (img.complete) done();
  else { img.addEventListener('load', done); img.addEventListener('error', done); }
}

document.addEventListener('DOMContentLoaded', markMatrix);
