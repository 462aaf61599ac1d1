// DPoP for the demo page (RFC 9449): a non-extractable ES256 key made with
// WebCrypto for this page's lifetime, the thumbprint the dev issuer binds tokens
// to, and a fresh signed proof on every API call, retried once with the server's
// nonce when it asks for one. app.js calls window.demoDPoP through two small
// hooks; without WebCrypto, or when the API does not offer DPoP, the page keeps
// sending bearer tokens.
'use strict';

(() => {
  const enc = new TextEncoder();

  function b64url(bytes) {
    let bin = '';
    for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const b64urlJSON = (value) => b64url(enc.encode(JSON.stringify(value)));
  const sha256 = (text) => crypto.subtle.digest('SHA-256', enc.encode(text));

  // offered reports whether the API accepts DPoP: a request without a token
  // gets challenges, and one of them is DPoP's when it does (RFC 9449 section 7.1).
  async function offered() {
    try {
      const resp = await fetch('/me/v1/factors', { credentials: 'omit', cache: 'no-store' });
      return /(^|,\s*)DPoP\s/i.test(resp.headers.get('WWW-Authenticate') || '');
    } catch {
      return false;
    }
  }

  // makeKey makes the page's key pair; the private key cannot be exported, so
  // not even a script injected into the page can carry it away.
  async function makeKey() {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const jwk = { crv, kty, x, y };
    // RFC 7638: the required members in lexicographic order, no whitespace.
    const jkt = b64url(await sha256(`{"crv":"${crv}","kty":"${kty}","x":"${x}","y":"${y}"}`));
    return { privateKey: pair.privateKey, jwk, jkt };
  }

  let keyPromise = null; // made on first use, once
  let nonce = null; // the server's latest DPoP-Nonce

  function key() {
    if (!keyPromise) {
      keyPromise = (async () => {
        if (!window.crypto || !crypto.subtle || !(await offered())) return null;
        try {
          return await makeKey();
        } catch {
          return null; // no P-256 in this browser: bearer tokens it is
        }
      })();
    }
    return keyPromise;
  }

  async function proof(k, method, url, accessToken) {
    const u = new URL(url, location.href);
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: k.jwk };
    const claims = {
      jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: method,
      htu: u.origin + u.pathname,
      iat: Math.floor(Date.now() / 1000),
      ath: b64url(await sha256(accessToken)),
    };
    if (nonce) claims.nonce = nonce;
    const input = b64urlJSON(header) + '.' + b64urlJSON(claims);
    // WebCrypto's ECDSA signature is r || s, as JWS wants it.
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey, enc.encode(input));
    return input + '.' + b64url(sig);
  }

  window.demoDPoP = {
    // jkt is the thumbprint to bind a new token to, or null to use bearer tokens.
    async jkt() {
      const k = await key();
      return k ? k.jkt : null;
    },

    // send makes an API call with a DPoP-bound token through sendFn (app.js's
    // fetch wrapper): "Authorization: DPoP", a new proof each attempt, and one
    // retry when the server answers use_dpop_nonce.
    async send(sendFn, url, init, accessToken) {
      const k = await key();
      if (!k) throw new Error('this token is DPoP-bound but the page has no DPoP key');
      for (let attempt = 0; ; attempt++) {
        init.headers.Authorization = 'DPoP ' + accessToken;
        init.headers.DPoP = await proof(k, init.method || 'GET', url, accessToken);
        const resp = await sendFn(url, init);
        const fresh = resp.headers.get('DPoP-Nonce');
        if (fresh) nonce = fresh;
        const challenge = resp.headers.get('WWW-Authenticate') || '';
        if (resp.status === 401 && fresh && attempt === 0 && challenge.includes('use_dpop_nonce')) continue;
        document.body.dataset.dpop = 'true';
        return resp;
      }
    },
  };
})();
