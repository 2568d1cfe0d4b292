// The number-format policy of quidpro/report/numbers.py, for the page (the browser test
// holds both to the same outputs): significant digits, thousands separators, 0 for
// rounding noise, scientific notation only below 1e-4 or from 1e15, n/a for missing.
"use strict";
const QNum = (() => {
  const SIG = 4, ZERO = 1e-9;
  function groups(intText) {
    return intText.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function trim(text) {
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }
  function fmt(x, sig = SIG, scale = 1.0, zero = ZERO) {
    if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
    if (x === Infinity) return "∞";
    if (x === -Infinity) return "-∞";
    sig = Math.max(1, Math.floor(sig));
    if (x === 0 || Math.abs(x) < zero * Math.max(Math.abs(scale), 1e-300)) return "0";
    let r = Number(x.toPrecision(sig));
    if (!Number.isFinite(r)) r = x; // rounding up past the largest float
    const a = Math.abs(r);
    if (a < 1e-4 || a >= 1e15) {
      let [m, e] = r.toExponential(sig - 1).split("e");
      m = trim(m);
      const n = Number(e);
      return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
    }
    const exp10 = Math.floor(Math.log10(a));
    const decimals = Math.max(0, sig - 1 - exp10);
    let text = a.toFixed(decimals);
    let [i, f] = text.split(".");
    text = groups(i) + (f !== undefined ? "." + f : "");
    text = trim(text);
    if (text === "0") return "0";
    return (r < 0 ? "-" : "") + text;
  }
  function column(values, sig = SIG) {
    const finite = values.filter((v) => v !== null && Number.isFinite(v)).map(Math.abs);
    const scale = finite.length ? Math.max(...finite) || 1 : 1;
    return values.map((v) => fmt(v, sig, scale));
  }
  function percent(p, digits = 0) {
    if (p === null || p === undefined || Number.isNaN(p)) return "n/a";
    const pct = 100 * p;
    if (pct === 0 || pct === 100) return `${pct.toFixed(0)}%`;
    const step = 10 ** -digits;
    if (pct < step) return `<${step}%`;
    if (pct > 100 - step) return `>${100 - step}%`;
    return `${pct.toFixed(digits)}%`;
  }
  return { fmt, column, percent };
})();
