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
  // DPoP hook (dpop.js): a DPoP-bound token goes with a proof instead.
  const resp = token.dpop ? await window.demoDPoP.send(send, API + path, init, token.raw) : await send(API + path, init);
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
  // DPoP hook (dpop.js): bind the token to the page's key when the API offers DPoP.
  const jkt = window.demoDPoP ? await window.demoDPoP.jkt() : null;
  const resp = await send('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ sub, scopes, expires_in: lifetime, ...(jkt ? { jkt } : {}) }),
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
  return { raw: t.access_token, claims: jwtClaims(t.access_token), dpop: t.token_type === 'DPoP' };
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

// webauthnNouns names what each WebAuthn type creates, for the page's messages.
const webauthnNouns = { passkey: 'passkey', 'webauthn-roaming': 'security key', 'webauthn-platform': 'device authenticator' };

function browserRefusal(e, noun) {
  switch (e && e.name) {
    case 'InvalidStateError':
      return new UserError('This authenticator already holds a ' + noun + ' for this account. ' +
        'Use another authenticator, or delete that ' + noun + ' first.');
    case 'NotAllowedError':
      return new UserError('No ' + noun + ' was created: the request was cancelled, timed out, ' +
        'or the browser did not allow it.');
    case 'AbortError':
      return new UserError('No ' + noun + ' was created: the request was cancelled.');
    case 'SecurityError':
      return new UserError('The browser refused: this page\'s address does not match the relying party ' +
        'of the API. Open the page at http://localhost with the port the demo printed.');
    case 'NotSupportedError':
      return new UserError('This authenticator supports none of the algorithms the API offers.');
  }
  return new UserError('The browser did not create a ' + noun + ' (' + (e && e.name) + ': ' + (e && e.message) + ').');
}

function addPasskey() {
  return addWebAuthn('passkey');
}

// addSecurityKey enrolls a cross-platform authenticator (a USB, NFC or
// Bluetooth key) as a second factor.
function addSecurityKey() {
  return addWebAuthn('webauthn-roaming');
}

// addDeviceAuthenticator enrolls this device's built-in authenticator
// (fingerprint, face or PIN) as a second factor.
function addDeviceAuthenticator() {
  return addWebAuthn('webauthn-platform');
}

// addWebAuthn enrolls a credential of one of the WebAuthn types: the API's
// creation options go to the browser, its attestation back to the API.
async function addWebAuthn(type) {
  const noun = webauthnNouns[type];
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new UserError('This browser cannot create a ' + noun + ' here: WebAuthn needs a secure context (http://localhost or https).');
  }
  // excludeCredentials lets the browser refuse an authenticator that already
  // holds a credential for this account, before the user is asked anything.
  const start = await api('POST', '/authentication-methods', { type, use_exclude_credentials: true });
  const rpID = start.authn_params_public_key.rp.id;
  if (location.hostname !== rpID && !location.hostname.endsWith('.' + rpID)) {
    throw new UserError('The API\'s relying party is "' + rpID + '" but this page is on "' + location.hostname +
      '": open the page on ' + rpID + '.');
  }
  say(type === 'webauthn-roaming' ? 'Insert or tap your security key…' : 'Waiting for your authenticator…');
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: creationOptions(start.authn_params_public_key) });
  } catch (e) {
    throw browserRefusal(e, noun);
  }
  // A passkey is verified at passkey|new; the other types under the 202's id.
  const method = await api('POST', '/authentication-methods/' +
    (type === 'passkey' ? 'passkey%7Cnew' : encodeURIComponent(start.id)) + '/verify', {
    auth_session: start.auth_session,
    authn_response: registrationJSON(cred),
  });
  await loadMethods();
  say('Added a ' + noun + ' (' + method.id + ').');
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

// methodTypes says, per type, how the list names a method and which of its
// type-specific fields it shows.
const methodTypes = {
  passkey: { label: 'Passkey', details: webauthnDetails },
  'webauthn-roaming': { label: 'Security key', details: webauthnKeyDetails },
  'webauthn-platform': { label: 'Device authenticator', details: webauthnKeyDetails },
  totp: { label: 'Authenticator app', details: (m) => [detail('confirmed', 'Confirmed', m.confirmed ? 'yes' : 'no')] },
  'recovery-code': { label: 'Recovery code', details: (m) => [detail('confirmed', 'Confirmed', m.confirmed ? 'yes' : 'no')] },
  email: { label: 'Email', details: (m) => [detail('email', 'Address', m.email)] },
  phone: {
    label: 'Phone',
    details: (m) => [detail('phone-number', 'Number', m.phone_number),
      detail('preferred', 'Codes by', m.preferred_authentication_method === 'voice' ? 'voice call' : 'text message')],
  },
  password: { label: 'Password', details: (m) => [detail('last-reset', 'Last set', when(m.last_password_reset))] },
  'push-notification': {
    label: 'Push notifications', details: (m) => [detail('confirmed', 'Confirmed', m.confirmed ? 'yes' : 'no')],
  },
};

function webauthnDetails(m) {
  return [
    detail('device-type', 'Device type', m.credential_device_type),
    detail('backed-up', 'Backed up', m.credential_backed_up ? 'yes' : 'no'),
    detail('transports', 'Transports', (m.transports || []).join(', ') || '—'),
    detail('aaguid', 'Authenticator (AAGUID)', m.aaguid || '—', 'code'),
  ];
}

// webauthnKeyDetails are the fields the API lists for security keys and
// device authenticators: the credential id, not the passkey's device details.
function webauthnKeyDetails(m) {
  const id = m.key_id || '';
  return [
    detail('confirmed', 'Confirmed', m.confirmed ? 'yes' : 'no'),
    detail('key-id', 'Credential id', id.length > 24 ? id.slice(0, 24) + '…' : id, 'code'),
  ];
}

// when shows an API timestamp in the reader's time, or a dash without one.
function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

// detail is one labelled field of a method; its value carries data-field.
function detail(field, label, value, tag) {
  return el('div', { class: 'detail' }, el('span', { class: 'detail-label', text: label + ': ' }),
    el(tag || 'span', { 'data-field': field, text: value === undefined || value === null ? '—' : String(value) }));
}

let shownMethods = []; // the list as last loaded

function showMethods(methods) {
  shownMethods = methods;
  const rows = methods.map((m) => {
    const created = new Date(m.created_at);
    const type = methodTypes[m.type] || { label: m.type, details: () => [] };
    return el('tr', { 'data-testid': 'method-row', 'data-id': m.id, 'data-type': m.type },
      el('td', { 'data-field': 'name' },
        m.name ? el('span', { class: 'name', text: m.name }) : el('span', { class: 'name muted', text: '(unnamed)' }),
        el('br'), el('small', { class: 'muted id', text: m.id })),
      el('td', { 'data-field': 'type', text: type.label }),
      el('td', { class: 'details' }, ...type.details(m)),
      el('td', { 'data-field': 'created' },
        el('time', { datetime: m.created_at, title: m.created_at,
          text: created.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) })),
      el('td', { class: 'row-actions' }, actionButtons(m)));
  });
  $('method-rows').replaceChildren(...rows);
  $('empty').hidden = methods.length > 0;
  $('empty').textContent = 'No sign-in methods yet: add one with the buttons above.';
}

function actionButtons(m) {
  const label = m.name || m.id;
  const buttons = [
    el('button', { type: 'button', class: 'secondary', 'data-action': 'rename', 'data-testid': 'rename',
      'aria-label': 'Rename ' + label, text: 'Rename' }),
    el('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'data-testid': 'delete',
      'aria-label': 'Delete ' + label, text: 'Delete' }),
  ];
  if (m.type === 'password') {
    buttons.unshift(el('button', { type: 'button', class: 'secondary', 'data-action': 'change-password',
      'data-testid': 'change-password', text: 'Change' }));
  }
  if (m.type === 'phone') {
    const other = m.preferred_authentication_method === 'voice' ? 'sms' : 'voice';
    buttons.unshift(el('button', { type: 'button', class: 'secondary', 'data-action': 'channel', 'data-channel': other,
      'data-testid': 'channel', text: other === 'voice' ? 'Use voice calls' : 'Use text messages' }));
  }
  return el('div', { class: 'buttons' }, ...buttons);
}

async function loadMethods() {
  const data = await api('GET', '/authentication-methods');
  showMethods(data.authentication_methods);
}

function updateButtons() {
  for (const b of document.querySelectorAll('button')) {
    b.disabled = busy || (b.id !== 'get-token' && b.id !== 'refresh-outbox' && !token);
  }
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
    task('Could not rename the method', async () => {
      const m = await api('PATCH', '/authentication-methods/' + encodeURIComponent(id), { name: input.value });
      await loadMethods();
      say('Renamed the method to “' + m.name + '”.');
    });
  });
  form.querySelector('[data-testid="rename-cancel"]').addEventListener('click', () =>
    task('Could not load the sign-in methods', loadMethods));
  cell.replaceChildren(form);
  input.focus();
  input.select();
}

function startDelete(tr) {
  const id = tr.dataset.id;
  const cell = tr.querySelector('.row-actions');
  const yes = el('button', { type: 'button', class: 'danger', 'data-testid': 'delete-confirm', text: 'Yes, delete' });
  const no = el('button', { type: 'button', class: 'secondary', 'data-testid': 'delete-cancel', text: 'Keep' });
  yes.addEventListener('click', () => task('Could not delete the method', async () => {
    await api('DELETE', '/authentication-methods/' + encodeURIComponent(id));
    await loadMethods();
    say('Deleted the method.');
  }));
  no.addEventListener('click', () => task('Could not load the sign-in methods', loadMethods));
  cell.replaceChildren(el('div', { class: 'buttons' }, el('span', { text: 'Delete this method?' }), yes, no));
  no.focus();
}

// switchChannel changes how a phone method receives its codes.
function switchChannel(tr, channel) {
  task('Could not change how the codes are sent', async () => {
    await api('PATCH', '/authentication-methods/' + encodeURIComponent(tr.dataset.id),
      { preferred_authentication_method: channel });
    await loadMethods();
    say('Codes for this phone now come by ' + (channel === 'voice' ? 'voice call.' : 'text message.'));
  });
}

// --- enrollment panel -----------------------------------------------------------
// One enrollment at a time shows its steps in #enroll. Closing the panel removes
// what it showed, secrets included.

let panelURLs = []; // object URLs of the panel's images, revoked on close

function openPanel(title, ...children) {
  closePanel();
  const p = $('enroll');
  p.append(el('h3', { text: title }), ...children);
  p.hidden = false;
}

function closePanel() {
  const p = $('enroll');
  p.replaceChildren();
  p.hidden = true;
  for (const u of panelURLs) URL.revokeObjectURL(u);
  panelURLs = [];
}

function cancelButton() {
  const b = el('button', { type: 'button', class: 'secondary', 'data-testid': 'enroll-cancel', text: 'Cancel' });
  b.addEventListener('click', () => {
    closePanel();
    say('Cancelled: nothing was added.');
  });
  return b;
}

// verifyMethod is the second step of every enrollment but a passkey's: the id
// of the 202 body, its auth_session and the type's own members.
function verifyMethod(start, members) {
  return api('POST', '/authentication-methods/' + encodeURIComponent(start.id) + '/verify',
    { auth_session: start.auth_session, ...members });
}

// codeForm asks for a 6-digit code and calls verify with it; a wrong code
// leaves the form in place to try again.
function codeForm(prefix, label, what, verify) {
  const id = prefix + '-code';
  const input = el('input', { type: 'text', id, 'data-testid': id, inputmode: 'numeric', autocomplete: 'one-time-code',
    pattern: '[0-9]{6}', maxlength: '6', required: '', spellcheck: 'false', class: 'code-input' });
  const form = el('form', { class: 'inline-form' },
    el('label', { for: id, text: label }), input,
    el('button', { type: 'submit', id: prefix + '-verify', 'data-testid': prefix + '-verify', text: 'Verify' }),
    cancelButton());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    task(what, async () => {
      await verify(input.value.trim());
      closePanel();
      await loadMethods();
    });
  });
  return form;
}

// --- authenticator apps (totp) -------------------------------------------------

async function addAuthenticatorApp() {
  const start = await api('POST', '/authentication-methods', { type: 'totp' });
  const img = el('img', { id: 'totp-qr', 'data-testid': 'totp-qr', class: 'qr', width: '240', height: '240',
    alt: 'QR code of the key for your authenticator app' });
  openPanel('Add an authenticator app',
    el('p', { text: 'Scan this QR code with your authenticator app, or type the key by hand. ' +
      'Then enter the 6-digit code the app shows.' }),
    el('div', { class: 'totp-setup' }, img,
      el('div', {},
        el('p', { class: 'detail-label', text: 'Key to type by hand' }),
        el('code', { id: 'totp-secret', 'data-testid': 'totp-secret', class: 'secret', text: groups(start.manual_input_code) }))),
    codeForm('totp', 'Code from the app', 'Could not add the authenticator app', async (code) => {
      await verifyMethod(start, { otp_code: code });
      say('Added an authenticator app.');
    }));
  img.src = await qrImage(start.barcode_uri);
  say('Scan the QR code, then type the code your app shows.');
  $('totp-code').focus();
}

// qrImage has the demo draw a barcode_uri (an otpauth URI, or a push pairing
// URL) as a QR code. The URI holds a secret, so it goes in a POST body rather
// than an image URL.
async function qrImage(uri) {
  const resp = await send('/dev/qr', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: uri,
    credentials: 'omit', cache: 'no-store' });
  if (!resp.ok) throw new UserError('The demo could not draw the QR code: ' + (await resp.text()).trim());
  const u = URL.createObjectURL(await resp.blob());
  panelURLs.push(u);
  return u;
}

// groups splits a secret into groups of four, easier to read and type.
function groups(s) {
  return s.replace(/(.{4})(?=.)/g, '$1 ');
}

// --- recovery codes ---------------------------------------------------------------

async function addRecoveryCode() {
  const start = await api('POST', '/authentication-methods', { type: 'recovery-code' });
  const code = el('code', { id: 'recovery-code', 'data-testid': 'recovery-code', class: 'secret', text: groups(start.recovery_code) });
  const copy = el('button', { type: 'button', id: 'recovery-copy', class: 'secondary', 'data-testid': 'recovery-copy', text: 'Copy' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(start.recovery_code);
      say('Copied the recovery code. Keep it somewhere safe, then press “I saved it”.');
    } catch {
      window.getSelection().selectAllChildren(code);
      say('The browser did not allow copying: the code is selected, copy it yourself.');
    }
  });
  const saved = el('button', { type: 'button', id: 'recovery-saved', 'data-testid': 'recovery-saved', text: 'I saved it' });
  saved.addEventListener('click', () => task('Could not add the recovery code', async () => {
    await verifyMethod(start, {});
    closePanel();
    await loadMethods();
    say('Added a recovery code. It is not shown again; to get a new one, delete it and add another.');
  }));
  openPanel('Your recovery code',
    el('p', { text: 'This code signs you in if you lose your other methods. It is shown only now: ' +
      'copy it or write it down, then confirm.' }),
    el('div', { class: 'buttons' }, code, copy),
    el('div', { class: 'buttons' }, saved, cancelButton()));
  say('Save the recovery code, then press “I saved it”.');
}

// --- email and phone ----------------------------------------------------------------

// addByMessage asks for an address or number, has the API send a code to it,
// then asks for that code. In the demo the code lands in the outbox.
function addByMessage(kind) {
  const email = kind === 'email';
  const what = email ? 'Could not add the email address' : 'Could not add the phone number';
  const input = email
    ? el('input', { type: 'email', id: 'email-address', 'data-testid': 'email-address', required: '',
      autocomplete: 'email', maxlength: '254', spellcheck: 'false' })
    : el('input', { type: 'tel', id: 'phone-number', 'data-testid': 'phone-number', required: '',
      autocomplete: 'tel', placeholder: '+14155550123', spellcheck: 'false' });
  const channel = email ? null : el('select', { id: 'phone-channel', 'data-testid': 'phone-channel' },
    el('option', { value: 'sms', text: 'by text message' }), el('option', { value: 'voice', text: 'by voice call' }));
  const form = el('form', { class: 'inline-form' },
    el('label', { for: input.id, text: email ? 'Email address' : 'Phone number (E.164)' }), input,
    ...(channel ? [el('label', { for: 'phone-channel', class: 'visually-hidden', text: 'How to send the code' }), channel] : []),
    el('button', { type: 'submit', id: kind + '-send', 'data-testid': kind + '-send', text: 'Send a code' }),
    cancelButton());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    task(what, async () => {
      const body = email ? { type: 'email', email: input.value.trim() }
        : { type: 'phone', phone_number: input.value.trim(), preferred_authentication_method: channel.value };
      const start = await api('POST', '/authentication-methods', body);
      const to = body.email || body.phone_number;
      openPanel(email ? 'Add an email address' : 'Add a phone number',
        el('p', { text: 'A code was sent to ' + to + '. In this demo it is in the development outbox below.' }),
        codeForm(kind, 'Code you received', what, async (code) => {
          await verifyMethod(start, { otp_code: code });
          say(email ? 'Added the email address.' : 'Added the phone number.');
        }));
      say('Sent a code to ' + to + '.');
      await loadOutbox();
      $(kind + '-code').focus();
    });
  });
  openPanel(email ? 'Add an email address' : 'Add a phone number', form);
  input.focus();
}

// --- passwords ----------------------------------------------------------------------

// setPassword sets the identity's password, or changes it when it has one: the
// API answers the policy first, the page shows it, and each rule a new password
// breaks comes back as its own validation error, shown under the field. A
// refused password leaves the auth_session usable for the next try.
async function setPassword() {
  const start = await api('POST', '/authentication-methods', { type: 'password' });
  const changing = shownMethods.some((m) => m.id === start.id);
  const title = changing ? 'Change your password' : 'Set a password';
  const input = el('input', { type: 'password', id: 'new-password', 'data-testid': 'new-password', required: '',
    autocomplete: 'new-password', maxlength: '256', spellcheck: 'false', 'aria-describedby': 'password-errors' });
  const errors = el('ul', { id: 'password-errors', class: 'field-errors', 'data-testid': 'password-errors' });
  // The account the password is for, for password managers to save it under.
  const username = el('input', { type: 'text', name: 'username', autocomplete: 'username', readonly: '', hidden: '',
    value: token.claims.sub || '' });
  const form = el('form', { class: 'password-form' }, username,
    el('div', { class: 'inline-form' },
      el('label', { for: 'new-password', text: changing ? 'New password' : 'Password' }), input,
      el('button', { type: 'submit', id: 'password-save', 'data-testid': 'password-save', text: changing ? 'Change it' : 'Set it' }),
      cancelButton()),
    errors);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    task('Could not set the password', async () => {
      errors.replaceChildren();
      input.removeAttribute('aria-invalid');
      try {
        await verifyMethod(start, { new_password: input.value });
      } catch (e) {
        const broken = e instanceof ApiError ? e.validationErrors.filter((v) => v.pointer === '/new_password') : [];
        if (!broken.length) throw e;
        errors.replaceChildren(...broken.map((v) => el('li', { 'data-testid': 'password-error', text: 'The password ' + v.detail + '.' })));
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        say('Refused: the password breaks ' + (broken.length === 1 ? 'a rule' : broken.length + ' rules') +
          ' of the policy, listed under the field. Try another.');
        return;
      }
      closePanel();
      await loadMethods();
      say(changing ? 'Changed the password.' : 'Set a password.');
    });
  });
  openPanel(title, el('p', { text: 'The password must meet this policy, which the API sent with the enrollment:' }),
    policyList(start.policy), form);
  say('Type a password that meets the policy.');
  input.focus();
}

// policyList shows a PasswordAuthenticationMethodPolicy as a list of rules.
function policyList(p) {
  const c = p.complexity;
  const typeNames = { lowercase: 'lowercase letters', uppercase: 'uppercase letters', number: 'numbers', special: 'special characters' };
  const types = (c.character_types || []).map((t) => typeNames[t] || t);
  const rules = [['length', 'At least ' + c.min_length + ' characters' +
    (c.max_length_exceeded === 'error' ? ', at most 256' : ' (longer ones are truncated)')]];
  if (types.length) {
    rules.push(['character-types', c.character_type_rule === 'all'
      ? 'With ' + types.join(', ') : 'With three of: ' + types.join(', ')]);
  }
  if (c.identical_characters === 'block') rules.push(['identical', 'No 3 identical characters in a row, such as “aaa”']);
  if (c.sequential_characters === 'block') rules.push(['sequential', 'No 3 consecutive letters or numbers, such as “abc” or “321”']);
  if (p.profile_data.active && p.profile_data.blocked_fields.length) {
    const fields = p.profile_data.blocked_fields.map((f) => f.replace(/_/g, ' '));
    rules.push(['profile-data', 'Not containing your ' +
      (fields.length > 1 ? fields.slice(0, -1).join(', ') + ' or ' + fields[fields.length - 1] : fields[0])]);
  }
  if (p.history.active) rules.push(['history', 'None of your last ' + p.history.size + ' passwords']);
  if (p.dictionary.active) rules.push(['dictionary', 'Not a common password (list “' + p.dictionary.default + '”)']);
  return el('ul', { id: 'password-policy', class: 'policy', 'data-testid': 'password-policy' },
    ...rules.map(([rule, text]) => el('li', { 'data-rule': rule, text })));
}

// --- push authenticators -----------------------------------------------------------

// pairPushAuthenticator shows the pairing's QR code for the authenticator app.
// The demo has no app: its development push provider takes a POST to the
// barcode_uri as the phone accepting the pairing, which "Simulate the phone"
// sends before verifying. Verify before that is refused (400) and can be tried
// again.
async function pairPushAuthenticator() {
  const start = await api('POST', '/authentication-methods', { type: 'push-notification' });
  const img = el('img', { id: 'push-qr', 'data-testid': 'push-qr', class: 'qr', width: '240', height: '240',
    alt: 'QR code of the pairing for your push authenticator app' });
  const verify = async () => {
    await verifyMethod(start, {});
    closePanel();
    await loadMethods();
    say('Paired a push authenticator.');
  };
  const simulate = el('button', { type: 'button', id: 'push-simulate', class: 'secondary', 'data-testid': 'push-simulate',
    text: 'Simulate the phone' });
  simulate.addEventListener('click', () => task('Could not pair the push authenticator', async () => {
    const resp = await send(start.barcode_uri, { method: 'POST', credentials: 'omit', cache: 'no-store' });
    if (!resp.ok) {
      throw new UserError('The development push provider refused the pairing (' + resp.status + ': ' +
        (await resp.text()).trim() + '). Start again.');
    }
    await verify();
  }));
  const done = el('button', { type: 'button', id: 'push-verify', 'data-testid': 'push-verify', text: 'Verify' });
  done.addEventListener('click', () => task('Could not pair the push authenticator', verify));
  openPanel('Pair a push authenticator',
    el('p', { text: 'Scan this QR code with your push authenticator app and accept the pairing, then press Verify. ' +
      'This demo has no app: “Simulate the phone” posts to the code\'s URL as the phone would, then verifies.' }),
    el('div', { class: 'totp-setup' }, img,
      el('div', {},
        el('p', { class: 'detail-label', text: 'Pairing URL (the QR code)' }),
        el('code', { id: 'push-uri', class: 'secret', 'data-testid': 'push-uri', text: start.barcode_uri }))),
    el('div', { class: 'buttons' }, simulate, done, cancelButton()));
  img.src = await qrImage(start.barcode_uri);
  say('Scan the QR code, or simulate the phone.');
}

// --- development outbox ----------------------------------------------------------------

async function loadOutbox() {
  const resp = await send('/dev/outbox', { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!resp.ok) {
    $('outbox-empty').textContent = 'The outbox is not shown here (' + resp.status + ': ' + (await resp.text()).trim() + ').';
    $('outbox-empty').hidden = false;
    return;
  }
  const data = await resp.json();
  const rows = data.messages.slice().reverse().map((m) => el('tr', { 'data-testid': 'outbox-row' },
    el('td', {}, el('time', { datetime: m.sent_at, text: new Date(m.sent_at).toLocaleTimeString() })),
    el('td', { 'data-field': 'channel', text: m.channel }),
    el('td', { 'data-field': 'to', text: m.to }),
    el('td', { 'data-field': 'code' }, el('code', { text: m.code }))));
  $('outbox-rows').replaceChildren(...rows);
  $('outbox-empty').textContent = 'No codes sent yet.';
  $('outbox-empty').hidden = rows.length > 0;
}

// --- connected accounts ---------------------------------------------------------

// The flow leaves the page for the provider and comes back to it: what the
// page needs then (whose token, the PKCE verifier, the state) waits in
// sessionStorage, never a token.
const connectKey = 'demo-connect';

function randomB64url(n) {
  return bytesToB64url(crypto.getRandomValues(new Uint8Array(n)));
}

async function loadConnected() {
  const conns = await api('GET', '/connected-accounts/connections');
  const select = $('connection');
  const chosen = select.value;
  select.replaceChildren(...conns.connections.map((c) => el('option', { value: c.name, text: c.name + ' (' + c.strategy + ')' })));
  if (chosen) select.value = chosen;
  const data = await api('GET', '/connected-accounts/accounts');
  const rows = data.accounts.map((a) => el('tr', { 'data-id': a.id, 'data-testid': 'account-row' },
    el('td', { 'data-field': 'connection', text: a.connection }),
    el('td', { 'data-field': 'scopes', text: (a.scopes || []).join(' ') }),
    el('td', { 'data-field': 'created' }, el('time', { datetime: a.created_at, text: when(a.created_at) })),
    el('td', { 'data-field': 'access', text: a.expires_at && new Date(a.expires_at) <= new Date() ? 'revoked or expired' : 'granted' }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'data-action': 'disconnect', 'data-testid': 'disconnect', text: 'Disconnect' }))));
  $('account-rows').replaceChildren(...rows);
  $('accounts-empty').hidden = rows.length > 0;
}

async function connectAccount() {
  const connection = $('connection').value;
  if (!connection) throw new UserError('This server offers no provider to connect.');
  const verifier = randomB64url(32);
  const challenge = bytesToB64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = randomB64url(16);
  const redirectURI = location.origin + '/';
  const start = await api('POST', '/connected-accounts/connect', {
    connection, redirect_uri: redirectURI, state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  sessionStorage.setItem(connectKey, JSON.stringify({
    sub: token.claims.sub, authSession: start.auth_session, verifier, state, redirectURI,
  }));
  say('Going to the provider…');
  location.assign(start.connect_uri + '?ticket=' + encodeURIComponent(start.connect_params.ticket));
}

// resumeConnect finishes a connection when the provider sent the browser
// back here with a connect code (or an error).
async function resumeConnect() {
  const params = new URLSearchParams(location.search);
  const saved = JSON.parse(sessionStorage.getItem(connectKey) || 'null');
  if (!saved || (!params.has('connect_code') && !params.has('error'))) return;
  sessionStorage.removeItem(connectKey);
  history.replaceState(null, '', location.pathname);
  $('user').value = saved.sub;
  token = await getToken(saved.sub, 3600);
  showToken();
  await loadMethods();
  if (params.get('state') !== saved.state) throw new UserError('The state that came back is not the one sent: refusing it.');
  if (params.has('error')) {
    await loadConnected();
    throw new UserError('The provider answered ' + params.get('error') + ': ' + (params.get('error_description') || ''));
  }
  const account = await api('POST', '/connected-accounts/complete', {
    auth_session: saved.authSession, connect_code: params.get('connect_code'),
    redirect_uri: saved.redirectURI, code_verifier: saved.verifier,
  });
  await loadConnected();
  say('Connected ' + account.connection + ' (' + account.id + ').');
}

async function disconnectAccount(tr) {
  await api('DELETE', '/connected-accounts/accounts/' + encodeURIComponent(tr.dataset.id));
  await loadConnected();
  say('Disconnected the account.');
}

// callProvider asks the demo's back end to call the development provider with
// the vault's token; the page sees what the provider answered, never the token.
async function callProvider() {
  const init = { method: 'POST', headers: { Authorization: 'Bearer ' + token.raw }, credentials: 'omit', cache: 'no-store' };
  const resp = token.dpop ? await window.demoDPoP.send(send, '/dev/vault-call', init, token.raw) : await send('/dev/vault-call', init);
  const text = (await resp.text()).trim();
  if (!resp.ok) throw new ApiError(resp.status, resp.statusText || 'Error', text);
  const data = JSON.parse(text);
  $('vault-result').textContent = 'The provider answered ' + data.provider_status + ': ' + JSON.stringify(data.provider_response);
  say('Called the provider with the vault\'s token.');
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
      closePanel();
      $('token-info').hidden = true;
      $('method-rows').replaceChildren();
      token = await getToken(sub, lifetime, scopes);
      showToken();
      say('Got a token for ' + sub + '.');
      try {
        await loadMethods();
        await loadConnected();
      } catch (e) {
        showError('Could not load the sign-in methods', e);
      }
    });
  });
  $('add-passkey').addEventListener('click', () => task('Could not add a passkey', addPasskey));
  $('add-security-key').addEventListener('click', () => task('Could not add a security key', addSecurityKey));
  $('add-platform').addEventListener('click', () => task('Could not add this device', addDeviceAuthenticator));
  $('add-totp').addEventListener('click', () => task('Could not add an authenticator app', addAuthenticatorApp));
  $('add-recovery-code').addEventListener('click', () => task('Could not add a recovery code', addRecoveryCode));
  $('add-email').addEventListener('click', () => task('Could not add an email address', async () => addByMessage('email')));
  $('add-phone').addEventListener('click', () => task('Could not add a phone number', async () => addByMessage('phone')));
  $('add-password').addEventListener('click', () => task('Could not set a password', setPassword));
  $('add-push').addEventListener('click', () => task('Could not pair a push authenticator', pairPushAuthenticator));
  $('refresh').addEventListener('click', () => task('Could not load the sign-in methods', async () => {
    await loadMethods();
    say('Sign-in methods loaded.');
  }));
  $('refresh-outbox').addEventListener('click', () => task('Could not load the outbox', loadOutbox));
  $('method-rows').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || busy) return;
    const tr = b.closest('tr');
    if (b.dataset.action === 'rename') startRename(tr);
    else if (b.dataset.action === 'delete') startDelete(tr);
    else if (b.dataset.action === 'channel') switchChannel(tr, b.dataset.channel);
    else if (b.dataset.action === 'change-password') task('Could not change the password', setPassword);
  });
  $('connect').addEventListener('click', () => task('Could not connect the account', connectAccount));
  $('vault-call').addEventListener('click', () => task('Could not call the provider', callProvider));
  $('account-rows').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action="disconnect"]');
    if (b && !busy) task('Could not disconnect the account', () => disconnectAccount(b.closest('tr')));
  });
  updateButtons();
  if (sessionStorage.getItem(connectKey)) task('Could not connect the account', resumeConnect);
});
