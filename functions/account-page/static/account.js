// The account page's script (an ES module; no framework, no build step).
//
// - Register and sign in. Sign-in asks for cookie delivery (`Token-Delivery: cookie`): the
//   refresh token comes back as an HttpOnly cookie this script can never read, the access token
//   in the body. The access token lives in a variable of this module only (never in
//   localStorage, sessionStorage or a cookie), so a reload loses it.
// - Silent refresh: on load (which is how a reload stays signed in), about a minute before the
//   access token expires, and once when a protected route refuses the token (401, or API
//   Gateway's 403 `{"message":"Forbidden"}`); if the refresh fails too, the signed-out view.
// - "Your sessions": each session's device (read from its User-Agent by `describeAgent`), IP
//   address, sign-in and last-use times (relative, and in local time), the current one marked;
//   sign out one other session, this one, or all of them. The list is reloaded after every
//   action.
// - Two-factor sign-in: when the password step answers `mfa_required`, the sign-in form asks
//   for a code (a 6-digit TOTP code or a recovery code) and completes it with POST /login/mfa.
//   Signed in: turn it on (its QR code, the key and an `otpauth://` link, then a code to confirm; the ten
//   recovery codes are shown once) or off (password and a code). Sessions opened with a second
//   factor are marked in the list.
// - Change the password (every other session ends; this one stays) and delete the account
//   (every session ends; the signed-out view follows), each asking for the password.
// - Every failure is put into words in a live region (`#error`), every outcome in `#notice`.
//
// Everything the server sends is put into the page as text (textContent), never as HTML: a
// User-Agent is whatever the client chose to send.

// ---- Reading a User-Agent and a time (pure; exported for the browser tests) ----

/** The browser and operating system a User-Agent names, and a short label for both. */
export function describeAgent(userAgent) {
  const ua = typeof userAgent === 'string' ? userAgent : '';
  let browser = null;
  if (/^curl\//i.test(ua)) browser = 'curl';
  else if (/\bEdg(e|A|iOS)?\//.test(ua)) browser = 'Edge';
  else if (/\b(Firefox|FxiOS)\//.test(ua)) browser = 'Firefox';
  else if (/\bChromium\//.test(ua)) browser = 'Chromium';
  else if (/\b(HeadlessChrome|Chrome|CriOS)\//.test(ua)) browser = 'Chrome';
  else if (/\bVersion\/[\d.]+.*\bSafari\//.test(ua)) browser = 'Safari';

  let os = null;
  if (/\bAndroid\b/.test(ua)) os = 'Android';
  else if (/\b(iPhone|iPad|iPod)\b/.test(ua)) os = 'iOS';
  else if (/\bWindows\b/.test(ua)) os = 'Windows';
  else if (/\b(Macintosh|Mac OS X)\b/.test(ua)) os = 'macOS';
  else if (/\b(Linux|X11|CrOS)\b/.test(ua)) os = 'Linux';

  let label;
  if (browser && os) label = `${browser} on ${os}`;
  else if (browser) label = browser;
  else if (os) label = `Unknown browser on ${os}`;
  else label = 'Unknown device';
  return { browser, os, label };
}

const UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** `when` (a Date, or milliseconds) relative to `now`, in words: "3 minutes ago". */
export function relativeTime(when, now = Date.now(), locale = undefined) {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const seconds = Math.trunc((Number(when) - Number(now)) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(seconds, 'second');
}

/** `when` in local time, to the second. */
export function localTime(when, locale = undefined) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' })
    .format(when);
}

// ---- Talking to the API ----

let accessToken = null; // memory only
let refreshTimer = null;
let refreshing = null; // the refresh under way, shared by everyone who needs one
let sessions = [];
let mfaToken = null; // the challenge of a password step that asked for a second factor

/**
 * One API call. Never throws: a network failure is `{ status: 0, network: true }`; otherwise
 * the status, the JSON body (or null) and the Retry-After header.
 */
async function call(method, path, { body, token, cookie } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (cookie) headers['Token-Delivery'] = 'cookie';
  try {
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    return { status: response.status, data, retryAfter: response.headers.get('Retry-After') };
  } catch {
    return { status: 0, network: true, data: null };
  }
}

/** Keeps a new access token and schedules its refresh a minute before it expires. */
function accept(tokens) {
  accessToken = tokens.access_token;
  const lifetime = Number(tokens.expires_in) || 0;
  scheduleRefresh(Math.max(lifetime - 60, lifetime / 2, 5));
}

function scheduleRefresh(seconds) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(silentRefresh, Math.min(seconds * 1000, 2 ** 31 - 1));
}

/**
 * Trades the refresh cookie for a new access token: `{ ok: true }`, or `{ ok: false, ended }`
 * where `ended` says the session is over (401: no cookie, signed out, expired, revoked).
 * Concurrent callers share one request, so the cookie is never presented twice at once.
 */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const result = await call('POST', '/refresh', { cookie: true });
      if (result.status === 200 && result.data && result.data.access_token) {
        accept(result.data);
        return { ok: true };
      }
      // 401: no cookie, or its session is over; 400: no usable cookie either.
      return { ok: false, ended: result.status === 401 || result.status === 400, result };
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function silentRefresh() {
  const outcome = await refresh();
  if (outcome.ok) return;
  if (outcome.ended) {
    showSignedOut('Your session has ended. Sign in again.');
  } else {
    showError(`Could not renew your sign-in: ${describe(outcome.result)}`);
    // Worth another try only when the cause may pass: the network, a busy or failing service.
    const status = outcome.result.status;
    if (status === 0 || status === 429 || status >= 500) scheduleRefresh(15);
  }
}

/**
 * Whether a protected route refused the token (API Gateway's 401/403, or the function's 401) —
 * not a wrong password given to a route that asks for it again (401 `invalid_credentials`).
 */
function refused(result) {
  const code = result.data && result.data.error;
  const wrongInput = code === 'invalid_credentials' || code === 'invalid_code';
  return result.status === 403 || (result.status === 401 && !wrongInput);
}

/**
 * A call to a protected route with the access token; when it is refused, one refresh and one
 * more try. Null when the session turned out to be over (the signed-out view is then showing)
 * or no new token could be had (the reason is then showing).
 */
async function authed(method, path, body = undefined) {
  if (!accessToken && !(await renewOrGiveUp())) return null;
  let result = await call(method, path, { token: accessToken, body });
  if (refused(result)) {
    if (!(await renewOrGiveUp())) return null;
    result = await call(method, path, { token: accessToken, body });
    if (refused(result)) {
      showSignedOut('Your session has ended. Sign in again.');
      return null;
    }
  }
  return result;
}

async function renewOrGiveUp() {
  const outcome = await refresh();
  if (outcome.ok) return true;
  if (outcome.ended) {
    showSignedOut(
      'You have been signed out: this session was ended, here or from another device. ' +
        'Sign in again.',
    );
  } else {
    showError(describe(outcome.result));
  }
  return false;
}

// ---- Errors in words ----

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const FIELD_NAMES = {
  username: 'Username',
  password: 'Password',
  current_password: 'Current password',
  new_password: 'New password',
  code: 'Code',
};

/** What went wrong, in words a person can act on. */
function describe(result) {
  if (!result || result.network) {
    return 'Could not reach the service. Check your connection and try again.';
  }
  const code = result.data && result.data.error;
  const message = result.data && typeof result.data.message === 'string' ? result.data.message : '';
  switch (result.status) {
    case 400: {
      const field = result.data && result.data.field;
      if (field) {
        const name = FIELD_NAMES[field] || field;
        const rule = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
        return `${name} ${rule}.`;
      }
      return `The request was refused: ${message || 'invalid request'}.`;
    }
    case 401:
      if (code === 'invalid_credentials') return 'Wrong username or password.';
      if (code === 'invalid_code') return 'That code is wrong or was already used.';
      if (code === 'invalid_mfa_token') return 'Your sign-in expired or was replaced. Sign in again.';
      return 'You are not signed in. Sign in again.';
    case 403:
      if (code === 'csrf_rejected') {
        return 'The request was refused as a possible cross-site request. Reload the page and try again.';
      }
      return 'Access was refused. Sign in again.';
    case 409:
      if (code === 'username_taken') return 'That username is taken. Choose another one.';
      return message ? `${message.charAt(0).toUpperCase()}${message.slice(1)}.` : 'Conflict.';
    case 429: {
      const seconds = Number.parseInt(result.retryAfter, 10);
      if (Number.isFinite(seconds) && seconds > 0) {
        return `Too many attempts. Try again in ${plural(seconds, 'second')}.`;
      }
      return 'Too many attempts. Try again later.';
    }
    case 503:
      return 'The service is temporarily unavailable. Try again in a moment.';
    case 500:
      return 'Something went wrong on the server. Try again later.';
    default:
      return `Unexpected answer from the service (HTTP ${result.status})${message ? `: ${message}` : ''}.`;
  }
}

// ---- The page ----

const $ = (id) => document.getElementById(id);

function showError(text) {
  $('error').textContent = text;
}

function showNotice(text) {
  $('notice').textContent = text;
}

function clearMessages() {
  showError('');
  showNotice('');
  for (const input of document.querySelectorAll('input[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
  }
}

/** The signed-out view, with `message` (if any) as a notice, focus on "Sign in". */
function showSignedOut(message, { focus = true } = {}) {
  accessToken = null;
  clearTimeout(refreshTimer);
  sessions = [];
  $('sessions').replaceChildren();
  $('username').textContent = '';
  $('loading').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  showPasswordStep();
  if (message) showNotice(message);
  if (focus) $('sign-in-heading').focus();
}

/** The signed-in view: who, and the sessions; focus on "Your sessions" when asked. */
async function showSignedIn({ focus }) {
  $('loading').hidden = true;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  for (const form of document.querySelectorAll('form')) form.reset();
  resetMfaCard();
  if ((await loadAccount()) && focus) $('sessions-heading').focus();
}

/** Who is signed in (once) and the sessions; false if either could not be had. */
async function loadAccount() {
  if (!$('username').textContent) {
    const me = await authed('GET', '/me');
    if (!me) return false;
    if (me.status !== 200 || !me.data) {
      showError(describe(me));
      return false;
    }
    $('username').textContent = me.data.username;
  }
  return loadSessions();
}

async function loadSessions() {
  const result = await authed('GET', '/sessions');
  if (!result) return false;
  if (result.status !== 200 || !result.data || !Array.isArray(result.data.sessions)) {
    showError(describe(result));
    return false;
  }
  sessions = result.data.sessions;
  renderSessions();
  return true;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function timeElement(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return element('span', {}, 'unknown');
  const exact = localTime(when);
  const time = element('time', { datetime: iso, title: exact }, relativeTime(when));
  return element('span', {}, time, ' ', element('span', { class: 'exact' }, `(${exact})`));
}

function signOutLabel(label, createdAt) {
  return `Sign out ${label}, signed in ${relativeTime(new Date(createdAt))}`;
}

function renderSessions() {
  const list = $('sessions');
  list.replaceChildren();
  if (sessions.length === 0) {
    list.append(element('li', { class: 'session' }, 'No sessions.'));
    return;
  }
  for (const session of sessions) {
    const { label } = describeAgent(session.user_agent);
    const title = element('h3', {}, label);
    if (session.current) title.append(element('span', { class: 'badge' }, 'this device'));
    if (session.mfa) title.append(element('span', { class: 'badge mfa' }, 'two-factor'));
    const facts = element('dl', { class: 'facts' });
    facts.append(
      element('dt', {}, 'IP address'),
      element('dd', {}, session.source_ip || 'unknown'),
      element('dt', {}, 'Signed in'),
      element('dd', {}, timeElement(session.created_at)),
      element('dt', {}, 'Last used'),
      element('dd', {}, timeElement(session.last_used_at)),
    );
    const item = element(
      'li',
      { class: session.current ? 'session current' : 'session', 'data-session-id': session.id },
      element('div', {}, title, facts),
    );
    if (!session.current) {
      const button = element(
        'button',
        {
          type: 'button',
          class: 'quiet sign-out-session',
          'aria-label': signOutLabel(label, session.created_at),
          'data-label': label,
          'data-created-at': session.created_at,
        },
        'Sign out',
      );
      button.addEventListener('click', () => signOutSession(session.id, label, button));
      item.append(button);
    }
    list.append(item);
  }
}

/** Keeps the relative times (and the buttons' names, which name them) current. */
function tickTimes() {
  for (const time of document.querySelectorAll('#sessions time')) {
    time.textContent = relativeTime(new Date(time.getAttribute('datetime')));
  }
  for (const button of document.querySelectorAll('#sessions button[data-label]')) {
    button.setAttribute(
      'aria-label',
      signOutLabel(button.dataset.label, button.dataset.createdAt),
    );
  }
}

/** Runs `action` with `button` disabled, so that a double click sends one request. */
async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    await action();
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- Actions ----

function markInvalid(result, form) {
  const field = result.data && result.data.field;
  const input = Object.hasOwn(FIELD_NAMES, field) ? form.elements.namedItem(field) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

async function signIn(username, password) {
  const result = await call('POST', '/login', {
    body: { username, password },
    cookie: true,
  });
  if (result.status === 200 && result.data && result.data.access_token) {
    accept(result.data);
    return { ok: true };
  }
  if (result.status === 200 && result.data && result.data.mfa_required) {
    mfaToken = result.data.mfa_token;
    return { ok: false, secondStep: true };
  }
  return { ok: false, result };
}

/** The sign-in form's first step (username and password). */
function showPasswordStep() {
  mfaToken = null;
  $('sign-in-form').hidden = false;
  $('second-step-form').hidden = true;
  $('second-step-form').reset();
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const outcome = await signIn(form.username.value, form.password.value);
    if (outcome.secondStep) {
      form.reset();
      form.hidden = true;
      $('second-step-form').hidden = false;
      $('second-step-code').focus();
      return;
    }
    if (!outcome.ok) {
      showError(describe(outcome.result));
      markInvalid(outcome.result, form);
      return;
    }
    await showSignedIn({ focus: true });
  });
}

async function onSecondStep(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const typed = form.code.value.trim();
    // Six digits (as apps show them, "123 456", or not) are an authenticator's code; anything
    // else is taken as a recovery code.
    const digits = typed.replace(/\s+/g, '');
    const proof = /^\d{6}$/.test(digits) ? { code: digits } : { recovery_code: typed };
    const result = await call('POST', '/login/mfa', {
      body: { mfa_token: mfaToken, ...proof },
      cookie: true,
    });
    if (result.status === 200 && result.data && result.data.access_token) {
      accept(result.data);
      showPasswordStep();
      await showSignedIn({ focus: true });
      return;
    }
    showError(describe(result));
    const code = result.data && result.data.error;
    if (code === 'invalid_mfa_token' || result.status === 429) {
      showPasswordStep();
      $('sign-in-username').focus();
    } else {
      form.code.setAttribute('aria-invalid', 'true');
      form.code.focus();
    }
  });
}

// ---- Two-factor sign-in, signed in ----

function resetMfaCard() {
  $('mfa-enrol').hidden = true;
  $('mfa-recovery').hidden = true;
  $('mfa-start').hidden = false;
  $('mfa-secret').textContent = '';
  $('mfa-uri').setAttribute('href', '#');
  $('mfa-qr').removeAttribute('src');
  $('mfa-recovery-codes').replaceChildren();
}

async function onMfaStart(event) {
  await busy(event.currentTarget, async () => {
    clearMessages();
    const result = await authed('POST', '/mfa/totp');
    if (!result) return;
    if (result.status !== 200 || !result.data || !result.data.secret) {
      showError(describe(result));
      return;
    }
    // Groups of four, as apps show keys; the URI carries it whole.
    $('mfa-secret').textContent = result.data.secret.match(/.{1,4}/g).join(' ');
    $('mfa-uri').setAttribute('href', result.data.otpauth_uri);
    const qr = String(result.data.qr_image || '');
    if (qr.startsWith('data:image/svg+xml;base64,')) $('mfa-qr').setAttribute('src', qr);
    $('mfa-start').hidden = true;
    $('mfa-enrol').hidden = false;
    $('mfa-confirm-code').focus();
  });
}

async function onMfaConfirm(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const result = await authed('POST', '/mfa/totp/confirm', { code: form.code.value.trim() });
    if (!result) return;
    if (result.status !== 200 || !result.data || !Array.isArray(result.data.recovery_codes)) {
      showError(describe(result));
      form.code.setAttribute('aria-invalid', 'true');
      form.code.focus();
      return;
    }
    form.reset();
    $('mfa-enrol').hidden = true;
    $('mfa-recovery-codes').replaceChildren(
      ...result.data.recovery_codes.map((code) => element('li', {}, element('code', {}, code))),
    );
    $('mfa-recovery').hidden = false;
    showNotice('Two-factor sign-in is on. Save your recovery codes.');
  });
}

async function onMfaOff(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const result = await authed('DELETE', '/mfa/totp', {
      password: form.password.value,
      code: form.code.value.trim(),
    });
    if (!result) return;
    if (result.status === 204) {
      form.reset();
      resetMfaCard();
      showNotice('Two-factor sign-in is off.');
      return;
    }
    showError(describeReauth(result));
    const wrongCode = result.data && result.data.error === 'invalid_code';
    const field = wrongCode ? form.code : form.password;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  });
}

async function onRegister(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const username = form.username.value;
    const password = form.password.value;
    const created = await call('POST', '/register', { body: { username, password } });
    if (created.status !== 201) {
      showError(describe(created));
      markInvalid(created, form);
      return;
    }
    const outcome = await signIn(username, password);
    if (!outcome.ok) {
      showError(`Your account was created, but signing in failed: ${describe(outcome.result)}`);
      return;
    }
    showNotice('Your account was created and you are signed in.');
    await showSignedIn({ focus: true });
  });
}

async function signOutSession(id, label, button) {
  await busy(button, async () => {
    clearMessages();
    const result = await authed('DELETE', `/sessions/${encodeURIComponent(id)}`);
    if (!result) return;
    if (result.status === 204) showNotice(`Signed out ${label}.`);
    else if (result.status === 404) showNotice('That session had already ended.');
    else showError(describe(result));
    if (await loadSessions()) $('sessions-heading').focus();
  });
}

async function signOut(path, button, done) {
  await busy(button, async () => {
    clearMessages();
    const result = await authed('POST', path);
    if (!result) return;
    if (result.status === 204) showSignedOut(done);
    else showError(describe(result));
  });
}

/** The answer to a wrong password on a form that asks for it again, or `describe`'s words. */
function describeReauth(result) {
  if (result.status === 401 && result.data && result.data.error === 'invalid_credentials') {
    return 'Wrong password.';
  }
  return describe(result);
}

async function onChangePassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const result = await authed('POST', '/password', {
      current_password: form.current_password.value,
      new_password: form.new_password.value,
    });
    if (!result) return;
    if (result.status !== 204) {
      showError(describeReauth(result));
      if (result.status === 401) {
        form.current_password.setAttribute('aria-invalid', 'true');
        form.current_password.focus();
      } else {
        markInvalid(result, form);
      }
      return;
    }
    form.reset();
    showNotice('Your password is changed. Every other session was signed out.');
    if (await loadSessions()) $('sessions-heading').focus();
  });
}

async function onDeleteAccount(event) {
  event.preventDefault();
  const form = event.currentTarget;
  await busy(form.querySelector('button'), async () => {
    clearMessages();
    const result = await authed('DELETE', '/me', { password: form.password.value });
    if (!result) return;
    if (result.status === 204) {
      form.reset();
      showSignedOut('Your account is deleted, and every session of it has ended.');
      return;
    }
    showError(describeReauth(result));
    form.password.setAttribute('aria-invalid', 'true');
    form.password.focus();
  });
}

async function onReload(event) {
  await busy(event.currentTarget, async () => {
    clearMessages();
    if (await loadAccount()) showNotice('Session list updated.');
  });
}

async function start() {
  $('sign-in-form').addEventListener('submit', onSignIn);
  $('second-step-form').addEventListener('submit', onSecondStep);
  $('mfa-start').addEventListener('click', onMfaStart);
  $('mfa-confirm-form').addEventListener('submit', onMfaConfirm);
  $('mfa-off-form').addEventListener('submit', onMfaOff);
  $('register-form').addEventListener('submit', onRegister);
  $('reload-sessions').addEventListener('click', onReload);
  $('password-form').addEventListener('submit', onChangePassword);
  $('delete-form').addEventListener('submit', onDeleteAccount);
  $('sign-out-here').addEventListener('click', (event) =>
    signOut('/logout', event.currentTarget, 'You are signed out.'),
  );
  $('sign-out-everywhere').addEventListener('click', (event) =>
    signOut('/logout-all', event.currentTarget, 'You are signed out on every device.'),
  );
  setInterval(tickTimes, 30_000);

  // A reload keeps you signed in: the refresh cookie survived it, the access token did not.
  const outcome = await refresh();
  if (outcome.ok) {
    await showSignedIn({ focus: false });
  } else {
    showSignedOut('', { focus: false });
    if (!outcome.ended) showError(describe(outcome.result));
  }
}

start();
