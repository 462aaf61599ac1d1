// The demo page: a tiny single-page app that calls the My Account API exactly as
// any SPA would, with a bearer token in the Authorization header and JSON bodies.
'use strict';

const API = '/me/v1';
const $ = (id) => document.getElementById(id);

let token = null; // {raw, claims}
let busy = false;
let tasksDone = 0; // shown as data-tasks-done on <body>, for tests to wait on

// ApiError is a failed API call: the problem details the API answered.
class ApiError extends Error {
  constructor(status, title, detail, validationErrors, retryAfter) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.validationErrors = validationErrors || [];
    this.retryAfter = retryAfter;
  }
}

// UserError is a refusal explained in words (by the browser or by this page).
class UserError extends Error {}

// --- base64url -------------------------------------------------------------

function b64urlToBytes(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function bytesToB64url(buf) {
  let bin = '';
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// --- the API -----------------------------------------------------------------

async function api(method, path, body) {
  if (!token) throw new UserError('Get a token first.');
  const headers = { Authorization: 'Bearer ' + token.raw, Accept: 'application/json' };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await send(API + path, init);
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!resp.ok) {
    const p = data && typeof data === 'object' ? data : {};
    throw new ApiError(resp.status, p.title || resp.statusText, p.detail || text.trim(),
      p.validation_errors, resp.headers.get('Retry-After'));
  }
  return data;
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    throw new UserError('The demo server could not be reached (' + e.message + '). Is it still running?');
  }
}

async function getToken(sub, lifetime, scopes) {
  const resp = await send('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ sub, scopes, expires_in: lifetime }),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!resp.ok) {
    const detail = resp.status === 404 || resp.status === 405
      ? 'This server has no development token issuer (it was started with -issuer).'
      : (await resp.text()).trim();
    throw new ApiError(resp.status, resp.statusText || 'Error', detail);
  }
  const t = await resp.json();
  return { raw: t.access_token, claims: jwtClaims(t.access_token) };
}

// jwtClaims reads a JWT's payload, only to show it: the API checks the signature.
function jwtClaims(raw) {
  try {
    return JSON.parse(new TextDecoder().decode(b64urlToBytes(raw.split('.')[1])));
  } catch {
    return {};
  }
}

// --- WebAuthn ------------------------------------------------------------------

function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: b64urlToBytes(json.challenge),
    user: { ...json.user, id: b64urlToBytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) })),
  };
}

function registrationJSON(cred) {
  let out;
  if (typeof cred.toJSON === 'function') {
    out = cred.toJSON();
  } else {
    const r = cred.response;
    out = {
      id: cred.id,
      rawId: bytesToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bytesToB64url(r.clientDataJSON),
        attestationObject: bytesToB64url(r.attestationObject),
      },
      clientExtensionResults: cred.getClientExtensionResults(),
    };
    if (typeof r.getTransports === 'function') out.response.transports = r.getTransports();
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
  }
  // The API takes absent members, not nulls.
  for (const k of Object.keys(out)) if (out[k] === null) delete out[k];
  return out;
}

function browserRefusal(e) {
  switch (e && e.name) {
    case 'InvalidStateError':
      return new UserError('This authenticator already holds a passkey for this account. ' +
        'Use another authenticator, or delete that passkey first.');
    case 'NotAllowedError':
      return new UserError('No passkey was created: the request was cancelled, timed out, ' +
        'or the browser did not allow it.');
    case 'AbortError':
      return new UserError('No passkey was created: the request was cancelled.');
    case 'SecurityError':
      return new UserError('The browser refused: this page\'s address does not match the relying party ' +
        'of the API. Open the page at http://localhost with the port the demo printed.');
    case 'NotSupportedError':
      return new UserError('This authenticator supports none of the algorithms the API offers.');
  }
  return new UserError('The browser did not create a passkey (' + (e && e.name) + ': ' + (e && e.message) + ').');
}

async function addPasskey() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new UserError('This browser cannot create passkeys here: WebAuthn needs a secure context (http://localhost or https).');
  }
  const start = await api('POST', '/authentication-methods', { type: 'passkey', use_exclude_credentials: true });
  const rpID = start.authn_params_public_key.rp.id;
  if (location.hostname !== rpID && !location.hostname.endsWith('.' + rpID)) {
    throw new UserError('The API\'s relying party is "' + rpID + '" but this page is on "' + location.hostname +
      '": open the page on ' + rpID + '.');
  }
  say('Waiting for your authenticator…');
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: creationOptions(start.authn_params_public_key) });
  } catch (e) {
    throw browserRefusal(e);
  }
  const method = await api('POST', '/authentication-methods/passkey%7Cnew/verify', {
    auth_session: start.auth_session,
    authn_response: registrationJSON(cred),
  });
  await loadPasskeys();
  say('Added a passkey (' + method.id + ').');
}

// --- rendering --------------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function say(text) {
  $('status').textContent = text;
}

function showError(what, err) {
  const box = $('alert');
  box.replaceChildren();
  let text = err.message;
  if (err instanceof ApiError) {
    text = err.status + ' ' + err.title + (err.detail ? ': ' + err.detail : '');
    if (err.retryAfter) text += ' Try again in ' + err.retryAfter + ' s.';
    if (err.status === 401 && token) text += ' Get a new token.';
  } else if (!(err instanceof UserError)) {
    text = 'Unexpected error: ' + err;
  }
  box.append(el('p', {}, el('strong', { text: what + '.' }), ' ' + text));
  if (err.validationErrors && err.validationErrors.length) {
    box.append(el('ul', {}, ...err.validationErrors.map((v) =>
      el('li', { text: (v.field || v.pointer || v.source || 'request') + ': ' + v.detail }))));
  }
  say('');
}

function showToken() {
  const c = token.claims;
  $('token-sub').textContent = c.sub || '(none)';
  const scopes = (c.scope ? c.scope.split(' ') : []).concat(c.permissions || []).filter(Boolean);
  $('token-scopes').replaceChildren(...(scopes.length ? scopes : ['(none)']).map((s) => el('li', { text: s })));
  const exp = c.exp ? new Date(c.exp * 1000) : null;
  $('token-expires').textContent = exp
    ? exp.toLocaleTimeString() + (c.iat ? ' (a token for ' + (c.exp - c.iat) + ' s)' : '')
    : 'never';
  $('token-info').hidden = false;
}

function showPasskeys(methods) {
  const rows = methods.map((m) => {
    const created = new Date(m.created_at);
    const tr = el('tr', { 'data-testid': 'passkey-row', 'data-id': m.id },
      el('td', { 'data-field': 'name' },
        m.name ? el('span', { class: 'name', text: m.name }) : el('span', { class: 'name muted', text: '(unnamed)' }),
        el('br'), el('small', { class: 'muted id', text: m.id })),
      el('td', { 'data-field': 'created' },
        el('time', { datetime: m.created_at, title: m.created_at,
          text: created.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) })),
      el('td', { 'data-field': 'device-type', text: m.credential_device_type }),
      el('td', { 'data-field': 'backed-up', text: m.credential_backed_up ? 'yes' : 'no' }),
      el('td', { 'data-field': 'transports', text: (m.transports || []).join(', ') || '—' }),
      el('td', { 'data-field': 'aaguid' }, el('code', { text: m.aaguid || '—' })),
      el('td', { class: 'row-actions' }, actionButtons(m)));
    return tr;
  });
  $('passkey-rows').replaceChildren(...rows);
  $('empty').hidden = methods.length > 0;
  $('empty').textContent = 'No passkeys yet: press “Add a passkey”.';
}

function actionButtons(m) {
  const label = m.name || m.id;
  return el('div', { class: 'buttons' },
    el('button', { type: 'button', class: 'secondary', 'data-action': 'rename', 'data-testid': 'rename',
      'aria-label': 'Rename ' + label, text: 'Rename' }),
    el('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'data-testid': 'delete',
      'aria-label': 'Delete ' + label, text: 'Delete' }));
}

async function loadPasskeys() {
  const data = await api('GET', '/authentication-methods?type=passkey');
  showPasskeys(data.authentication_methods);
}

function updateButtons() {
  for (const b of document.querySelectorAll('button')) b.disabled = busy || (b.id !== 'get-token' && !token);
}

// task runs one user action: it clears the last message, disables the buttons,
// and shows any failure in words in the alert area.
async function task(what, fn) {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = 'true';
  $('alert').replaceChildren();
  updateButtons();
  try {
    await fn();
  } catch (e) {
    showError(what, e);
  } finally {
    busy = false;
    document.body.dataset.busy = 'false';
    document.body.dataset.tasksDone = String(++tasksDone);
    updateButtons();
  }
}

// --- row editing ------------------------------------------------------------

function startRename(tr) {
  const id = tr.dataset.id;
  const cell = tr.querySelector('[data-field="name"]');
  const current = cell.querySelector('.name:not(.muted)');
  const input = el('input', { type: 'text', id: 'rename-input', maxlength: '100', required: '',
    'data-testid': 'rename-input', value: current ? current.textContent : '' });
  const form = el('form', { class: 'inline-form' },
    el('label', { for: 'rename-input', class: 'visually-hidden', text: 'New name' }), input,
    el('button', { type: 'submit', 'data-testid': 'rename-save', text: 'Save' }),
    el('button', { type: 'button', class: 'secondary', 'data-testid': 'rename-cancel', text: 'Cancel' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    task('Could not rename the passkey', async () => {
      const m = await api('PATCH', '/authentication-methods/' + encodeURIComponent(id), { name: input.value });
      await loadPasskeys();
      say('Renamed the passkey to “' + m.name + '”.');
    });
  });
  form.querySelector('[data-testid="rename-cancel"]').addEventListener('click', () =>
    task('Could not load the passkeys', loadPasskeys));
  cell.replaceChildren(form);
  input.focus();
  input.select();
}

function startDelete(tr) {
  const id = tr.dataset.id;
  const cell = tr.querySelector('.row-actions');
  const yes = el('button', { type: 'button', class: 'danger', 'data-testid': 'delete-confirm', text: 'Yes, delete' });
  const no = el('button', { type: 'button', class: 'secondary', 'data-testid': 'delete-cancel', text: 'Keep' });
  yes.addEventListener('click', () => task('Could not delete the passkey', async () => {
    await api('DELETE', '/authentication-methods/' + encodeURIComponent(id));
    await loadPasskeys();
    say('Deleted the passkey.');
  }));
  no.addEventListener('click', () => task('Could not load the passkeys', loadPasskeys));
  cell.replaceChildren(el('div', { class: 'buttons' }, el('span', { text: 'Delete this passkey?' }), yes, no));
  no.focus();
}

// --- wiring -----------------------------------------------------------------

function checkContext() {
  const problems = [];
  if (!window.isSecureContext || !window.PublicKeyCredential) {
    problems.push('This page is not a secure context, so the browser will not create passkeys here.');
  }
  if (location.hostname !== 'localhost') {
    problems.push('The demo\'s relying party is “localhost”: open http://localhost:' +
      (location.port || '8080') + '/ instead of ' + location.host + '.');
  }
  if (problems.length) {
    $('context-warning').textContent = problems.join(' ');
    $('context-warning').hidden = false;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  checkContext();
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const sub = $('user').value.trim();
    const lifetime = Number($('lifetime').value);
    const scopes = [...document.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value);
    task('Could not get a token', async () => {
      token = null;
      $('token-info').hidden = true;
      $('passkey-rows').replaceChildren();
      token = await getToken(sub, lifetime, scopes);
      showToken();
      say('Got a token for ' + sub + '.');
      try {
        await loadPasskeys();
      } catch (e) {
        showError('Could not load the passkeys', e);
      }
    });
  });
  $('add-passkey').addEventListener('click', () => task('Could not add a passkey', addPasskey));
  $('refresh').addEventListener('click', () => task('Could not load the passkeys', async () => {
    await loadPasskeys();
    say('Passkeys loaded.');
  }));
  $('passkey-rows').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || busy) return;
    const tr = b.closest('tr');
    if (b.dataset.action === 'rename') startRename(tr);
    else if (b.dataset.action === 'delete') startDelete(tr);
  });
  updateButtons();
});
