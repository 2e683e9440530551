/* tracer: check-your-answer worksheets.
 *
 * Each blank of a worksheet (<span class="tracer-blank" data-blank="ID">) becomes a box to
 * type a number into; Enter (or leaving the box) checks it, and the tally counts the
 * right ones.  The page holds no answer: per blank, a salt and a few items, each the
 * interval [lo, hi] of right answers encrypted with a key that only a number near the
 * answer leads to (tracer/exporters/checking.py writes them; the two must agree).
 * SHA-256 is written out here: the browser's own (crypto.subtle) exists only on https
 * and localhost pages, and a worksheet may be opened from a file.
 * Without JavaScript the blanks stay empty cells, to print and write in. */
(function () {
  "use strict";

  // ---------------------------------------------------------------- SHA-256 (FIPS 180-4)
  var K = [];
  (function () {
    var found = 0, n = 2;
    while (found < 64) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) { if (n % d === 0) { prime = false; break; } }
      if (prime) { K[found++] = (Math.pow(n, 1 / 3) % 1) * 4294967296 | 0; }
      n++;
    }
  })();

  function utf8(text) {
    var bytes = [], s = unescape(encodeURIComponent(text));
    for (var i = 0; i < s.length; i++) { bytes.push(s.charCodeAt(i)); }
    return bytes;
  }

  function sha256(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var length = bytes.length, data = bytes.slice();
    data.push(0x80);
    while (data.length % 64 !== 56) { data.push(0); }
    var bits = length * 8;
    for (var b = 7; b >= 0; b--) { data.push(b >= 4 ? 0 : (bits >>> (8 * b)) & 255); }
    var w = new Array(64);
    for (var offset = 0; offset < data.length; offset += 64) {
      for (var i = 0; i < 16; i++) {
        var j = offset + 4 * i;
        w[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
      }
      for (i = 16; i < 64; i++) {
        var x = w[i - 15], y = w[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var a = h[0], bb = h[1], c = h[2], d2 = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        hh = g; g = f; f = e; e = (d2 + t1) | 0; d2 = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h = [(h[0] + a) | 0, (h[1] + bb) | 0, (h[2] + c) | 0, (h[3] + d2) | 0,
           (h[4] + e) | 0, (h[5] + f) | 0, (h[6] + g) | 0, (h[7] + hh) | 0];
    }
    var out = [];
    h.forEach(function (word) {
      for (var k = 3; k >= 0; k--) { out.push((word >>> (8 * k)) & 255); }
    });
    return out;
  }

  function hex(bytes) {
    return bytes.map(function (v) { return (v < 16 ? "0" : "") + v.toString(16); }).join("");
  }

  // ---------------------------------------------------------------- numbers
  // What a student may type: 0.25, -3/4, 1e-3, +2, with a comma for the decimal point or
  // a typographic minus.
  var NUMBER = "(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?";
  var TYPED = new RegExp("^([-+]?)(" + NUMBER + ")(?:/(" + NUMBER + "))?$");

  function parse(text) {
    var t = text.replace(/\s+/g, "").replace(/[\u2212\u2013]/g, "-");
    if (t.indexOf(".") < 0) { t = t.replace(",", "."); }
    var m = TYPED.exec(t);
    if (!m) { return null; }
    var value = parseFloat(m[2]);
    if (m[3] !== undefined) {
      var below = parseFloat(m[3]);
      if (below === 0) { return null; }
      value = value / below;
    }
    value = m[1] === "-" ? -value : value;
    return isFinite(value) ? value : null;
  }

  // The number as the pages write it (tracer/notation/numbers.py: fmt).
  function fmt(v, digits) {
    if (v === 0) { return "0"; }
    var magnitude = Math.floor(Math.log10(Math.abs(v)));
    var text;
    if (magnitude >= -5 && magnitude < 15) {
      text = v.toFixed(Math.max(digits - 1 - magnitude, 0));
      if (text.indexOf(".") >= 0) { text = text.replace(/0+$/, "").replace(/\.$/, ""); }
    } else {
      var parts = v.toExponential(digits - 1).split("e");
      var mantissa = parts[0];
      if (mantissa.indexOf(".") >= 0) {
        mantissa = mantissa.replace(/0+$/, "").replace(/\.$/, "");
      }
      text = mantissa + "e" + parseInt(parts[1], 10);
    }
    return text === "-0" ? "0" : text;
  }

  // The cells of a typed number, as checking.py's cells().
  function cells(x, data) {
    var found = [];
    if (x !== 0 && data.rtol > 0) {
      found.push("r:" + (x < 0 ? "-" : "+") + ":" +
                 Math.floor(Math.log(Math.abs(x)) / (data.cell * data.rtol)));
    }
    if (data.atol > 0 && Math.abs(x / data.atol) < 1e15) {
      found.push("a:" + Math.floor(x / data.atol));
    }
    found.push("p:" + fmt(x, data.digits));
    return found;
  }

  function unlock(item, key) {
    var pad = sha256(utf8(key + "|pad"));
    var bytes = new Uint8Array(16);
    for (var i = 0; i < 16; i++) {
      bytes[i] = parseInt(item.substr(16 + 2 * i, 2), 16) ^ pad[i];
    }
    var view = new DataView(bytes.buffer);
    return [view.getFloat64(0), view.getFloat64(8)];
  }

  // true, false, or null (not a number).
  function check(text, entry, data) {
    var x = parse(text);
    if (x === null) { return null; }
    var split = entry.indexOf(":");
    var salt = entry.slice(0, split), items = entry.slice(split + 1);
    var found = cells(x, data);
    for (var c = 0; c < found.length; c++) {
      var key = hex(sha256(utf8(salt + "|" + found[c])));
      var tag = hex(sha256(utf8(key + "|tag")).slice(0, 8));
      for (var i = 0; i < items.length; i += 48) {
        if (items.substr(i, 16) !== tag) { continue; }
        if (found[c].charAt(0) === "p") { return true; }
        var bounds = unlock(items.substr(i, 48), key);
        if (bounds[0] <= x && x <= bounds[1]) { return true; }
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- the page
  function start() {
    var holder = document.querySelector(".tracer-check");
    if (!holder || holder.getAttribute("data-tracer-ready")) { return; }
    holder.setAttribute("data-tracer-ready", "1");
    var data = JSON.parse(holder.getAttribute("data-check"));
    var words = {
      right: holder.getAttribute("data-right"), wrong: holder.getAttribute("data-wrong"),
      unread: holder.getAttribute("data-unread"), tally: holder.getAttribute("data-tally"),
      label: holder.getAttribute("data-label")
    };
    var blanks = Array.prototype.slice.call(document.querySelectorAll(".tracer-blank"));
    var state = blanks.map(function () { return false; });
    var tally = document.createElement("p");
    tally.className = "tracer-tally";
    tally.setAttribute("aria-live", "polite");
    holder.parentNode.insertBefore(tally, holder);
    var intro = document.querySelector(".tracer-check-intro");
    if (intro) { intro.hidden = false; }

    function count() {
      var right = state.filter(Boolean).length;
      tally.textContent = words.tally.replace("{right}", right)
                                     .replace("{total}", blanks.length);
    }

    blanks.forEach(function (blank, n) {
      var entry = data.blanks[blank.getAttribute("data-blank")];
      if (!entry) { return; }
      var input = document.createElement("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.className = "tracer-answer";
      input.setAttribute("aria-label", words.label.replace("{n}", n + 1));
      var mark = document.createElement("span");
      mark.className = "tracer-mark";
      mark.setAttribute("aria-live", "polite");
      blank.appendChild(input);
      blank.appendChild(mark);

      function run() {
        var text = input.value.trim();
        var result = text === "" ? undefined : check(text, entry, data);
        state[n] = result === true;
        blank.classList.toggle("tracer-right", result === true);
        blank.classList.toggle("tracer-wrong", result === false || result === null);
        mark.textContent = result === true ? "\u2713 " + words.right
          : result === false ? "\u2717 " + words.wrong
          : result === null ? "? " + words.unread : "";
        input.setAttribute("aria-invalid", result === true || result === undefined
          ? "false" : "true");
        count();
      }

      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          run();
          // On to the next box, as Tab would.
          var next = blanks[n + 1] && blanks[n + 1].querySelector("input");
          if (next && state[n]) { next.focus(); }
        }
      });
      input.addEventListener("change", run);
    });
    count();
  }

  window.tracerCheck = { parse: parse, fmt: fmt, cells: cells, check: check,
                         sha256: function (t) { return hex(sha256(utf8(t))); } };
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
