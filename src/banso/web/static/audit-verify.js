/*
 * banso — check an audit entry's inclusion proof in the browser (A3).
 *
 * Everything is recomputed here with WebCrypto, from the bytes the page embeds:
 *   leaf hash  = SHA-256(0x00 || leaf)                       (RFC 6962 §2.1)
 *   node hash  = SHA-256(0x01 || left || right)
 *   root       = RFC 9162 §2.1.3.2 inclusion-proof verification
 *   checkpoint = Ed25519 signature over the signed note, which states the tree size and root.
 * The page shows the outcome in #proof-status[data-verified="true"|"false"|"unsupported"].
 */
(function () {
  "use strict";

  var NOTE_ORIGIN = "banso.audit/v1";

  function fromHex(hex) {
    if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) {
      throw new Error("bad hex");
    }
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) {
      out[i] = parseInt(hex.substr(i * 2, 2), 16);
    }
    return out;
  }

  function toHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function fromBase64(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out;
  }

  function concat(parts) {
    var size = 0;
    parts.forEach(function (p) { size += p.length; });
    var out = new Uint8Array(size);
    var offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    var diff = 0;
    for (var i = 0; i < a.length; i++) { diff |= a[i] ^ b[i]; }
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function leafHash(leaf) {
    return sha256(concat([new Uint8Array([0]), leaf]));
  }

  function nodeHash(left, right) {
    return sha256(concat([new Uint8Array([1]), left, right]));
  }

  /* RFC 9162 §2.1.3.2: return the root the proof leads to, or null when the proof is malformed. */
  async function rootFromInclusionProof(index, treeSize, leafHashBytes, proof) {
    if (!(index >= 0 && index < treeSize)) { return null; }
    var fn = index;
    var sn = treeSize - 1;
    var r = leafHashBytes;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) { return null; }
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  /* The note is "origin\nsize\nbase64(root)\ntimestamp\n" (banso.audit.rules.checkpoint_note). */
  function parseNote(note) {
    if (typeof note !== "string" || note.charAt(note.length - 1) !== "\n") { return null; }
    var lines = note.slice(0, -1).split("\n");
    if (lines.length !== 4 || lines[0] !== NOTE_ORIGIN || !/^(0|[1-9][0-9]*)$/.test(lines[1])) { return null; }
    try {
      return { treeSize: Number(lines[1]), root: fromBase64(lines[2]), timestamp: lines[3] };
    } catch (e) {
      return null;
    }
  }

  async function verifySignature(publicKeyRaw, signature, message) {
    var key;
    try {
      key = await crypto.subtle.importKey("raw", publicKeyRaw, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      return "skip"; // this browser's WebCrypto has no Ed25519
    }
    try {
      var ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
      return ok ? "ok" : "fail";
    } catch (e) {
      return "fail";
    }
  }

  function setStep(name, state) {
    var el = document.querySelector('#verify-steps [data-step="' + name + '"]');
    if (el) { el.setAttribute("data-state", state); }
  }

  function setStatus(value) {
    var el = document.getElementById("proof-status");
    if (el) { el.setAttribute("data-verified", value); }
  }

  async function run() {
    var holder = document.getElementById("proof-data");
    if (!holder) { return; }
    if (!window.crypto || !window.crypto.subtle) {
      setStatus("unsupported");
      return;
    }
    var data = JSON.parse(holder.textContent);
    var cp = data.checkpoint;
    var leaf = fromBase64(data.leaf_b64);
    var proof = (data.proof || []).map(fromHex);
    var signedRoot = fromHex(cp.root_hex);

    var lh = await leafHash(leaf);
    var leafOk = toHex(lh) === data.leaf_hash_hex.toLowerCase();
    setStep("leaf", leafOk ? "ok" : "fail");

    var computed = await rootFromInclusionProof(data.seq, cp.tree_size, lh, proof);
    var rootEl = document.getElementById("computed-root");
    if (rootEl) { rootEl.textContent = computed ? toHex(computed) : "—"; }
    var pathOk = computed !== null && equal(computed, signedRoot);
    setStep("path", pathOk ? "ok" : "fail");

    var publicKey = fromBase64(data.public_key_b64);
    var keyId = toHex(await sha256(publicKey));
    var note = parseNote(cp.note);
    var noteOk = note !== null && note.treeSize === cp.tree_size && equal(note.root, signedRoot) &&
      keyId === String(cp.key_id).toLowerCase();
    setStep("note", noteOk ? "ok" : "fail");

    var sig = await verifySignature(publicKey, fromBase64(cp.signature_b64), new TextEncoder().encode(cp.note));
    setStep("signature", sig);
    var holderEl = document.getElementById("proof-status");
    if (holderEl) { holderEl.setAttribute("data-signature", sig); }

    setStatus(leafOk && pathOk && noteOk && sig !== "fail" ? "true" : "false");
  }

  function start() {
    run().catch(function () { setStatus("false"); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
