/* tracer: typeset the math with KaTeX and bring the step-through figures to life.
 *
 * Material for MkDocs may swap pages without a reload, so everything starts from its
 * document$ observable, which fires on every page view; without Material, on load.
 * With JavaScript off, the math stays as LaTeX source and every step shows, one under
 * another. */
(function () {
  "use strict";

  var MATH_DELIMITERS = [
    { left: "\\(", right: "\\)", display: false },
    { left: "\\[", right: "\\]", display: true }
  ];

  // arithmatex (generic mode) wraps each formula in an element of class "arithmatex",
  // holding exactly \(...\) or \[...\]; only those are typeset, so a dollar sign or a
  // backslash in code is left alone.  Each is handed to KaTeX directly: scanning the
  // text for delimiters (auto-render) took most of the time on long answer keys.
  function typesetOne(element) {
    if (element.querySelector(".katex")) {
      return;
    }
    var text = element.textContent.trim();
    var display = text.slice(0, 2) === "\\[";
    if (!display && text.slice(0, 2) !== "\\(") {
      return;
    }
    // A formula KaTeX cannot take (nested too deep for its parser, say) stays as its
    // LaTeX source instead of stopping the typesetting of the rest of the page.  Links and
    // other commands that reach outside the formula stay off (trust: false).
    try {
      window.katex.render(text.slice(2, -2), element,
                          { displayMode: display, throwOnError: false, trust: false });
    } catch (error) {
      element.textContent = text;
    }
  }

  var whenIdle = window.requestIdleCallback
    ? function (work) { window.requestIdleCallback(work, { timeout: 50 }); }
    : function (work) { window.setTimeout(work, 0); };

  // Typesets what the last page view left for later (printing needs every formula).
  var typesetTheRest = function () {};
  window.addEventListener("beforeprint", function () { typesetTheRest(); });

  // A long answer key holds hundreds of formulas at about a millisecond each.  Those
  // within two screen heights of the view are typeset at once; the others as they come
  // near the view, in slices while the browser is idle, and all before printing.
  function typeset(root) {
    if (!window.katex) {
      return;
    }
    var formulas = Array.prototype.slice.call(root.querySelectorAll(".arithmatex"));
    if (typeof IntersectionObserver !== "function") {
      formulas.forEach(typesetOne);
      return;
    }
    var reach = 2 * window.innerHeight;
    // Every position first, then the typesetting: one layout instead of one per formula.
    var tops = formulas.map(function (f) { return f.getBoundingClientRect().top; });
    var later = formulas.filter(function (f, i) { return tops[i] < -reach || tops[i] > reach; });
    formulas.forEach(function (f, i) {
      if (tops[i] >= -reach && tops[i] <= reach) {
        typesetOne(f);
      }
    });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          typesetOne(entry.target);
          observer.unobserve(entry.target);
        }
      });
    }, { rootMargin: "100% 0px" });
    later.forEach(function (f) { observer.observe(f); });
    var next = 0;
    function rest(until) {
      while (next < later.length && Date.now() < until) {
        typesetOne(later[next]);
        observer.unobserve(later[next]);
        next++;
      }
      if (next < later.length) {
        whenIdle(function () { rest(Date.now() + 25); });
      } else {
        observer.disconnect();
      }
    }
    whenIdle(function () { rest(Date.now() + 25); });
    typesetTheRest = function () { rest(Infinity); };
  }

  // Search results quote the pages' text, math delimiters included: typeset them as
  // they appear.
  function typesetSearchResults() {
    var results = document.querySelector(".md-search-result__list");
    if (!results || typeof window.renderMathInElement !== "function" ||
        typeof MutationObserver !== "function") {
      return;
    }
    new MutationObserver(function () {
      var articles = results.querySelectorAll("article:not([data-tracer-typeset])");
      for (var i = 0; i < articles.length; i++) {
        articles[i].setAttribute("data-tracer-typeset", "1");
        window.renderMathInElement(articles[i], {
          delimiters: MATH_DELIMITERS,
          throwOnError: false
        });
      }
    }).observe(results, { childList: true, subtree: true });
  }

  function stepThrough(box) {
    if (box.getAttribute("data-tracer-ready")) {
      return;
    }
    var frames = box.querySelectorAll(".tracer-step");
    var count = frames.length;
    if (!count) {
      return;
    }
    box.setAttribute("data-tracer-ready", "1");
    var counter = box.querySelector(".tracer-step-counter");
    var previous = box.querySelector(".tracer-prev");
    var next = box.querySelector(".tracer-next");
    var shown = 0;

    function show(k) {
      shown = Math.max(0, Math.min(count - 1, k));
      for (var i = 0; i < count; i++) {
        frames[i].hidden = i !== shown;
        if (i === shown) {
          Array.prototype.forEach.call(frames[i].querySelectorAll("img"), fitFigure);
        }
        // Fetch the neighbours' figures too, so that stepping shows them at once
        // instead of collapsing the frame while a lazily loaded image arrives.
        if (Math.abs(i - shown) <= 1) {
          var images = frames[i].querySelectorAll("img[loading=lazy]");
          for (var j = 0; j < images.length; j++) {
            images[j].loading = "eager";
          }
        }
      }
      if (counter) {
        counter.textContent = (shown + 1) + " / " + count;
      }
      if (previous) {
        previous.disabled = shown === 0;
      }
      if (next) {
        next.disabled = shown === count - 1;
      }
    }

    if (counter) {
      counter.setAttribute("aria-live", "polite");
    }
    if (previous) {
      previous.addEventListener("click", function () { show(shown - 1); });
    }
    if (next) {
      next.addEventListener("click", function () { show(shown + 1); });
    }
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") {
        show(shown - 1);
      } else if (event.key === "ArrowRight") {
        show(shown + 1);
      } else {
        return;
      }
      event.preventDefault();
    });
    box.classList.add("tracer-steps--live");
    show(0);
  }

  // A figure wider than the text column is shown at no less than MIN_SCALE of its own
  // size, in a box that scrolls sideways: scaled down to the column, the figure of a long
  // chain would have labels a few pixels high.  Without JavaScript it fits the column.
  var MIN_SCALE = 0.7;

  function fitFigure(image) {
    var natural = image.naturalWidth;
    var box = image.parentNode;
    if (!natural || !box) {
      return;
    }
    image.style.width = "";
    image.style.maxWidth = "";
    box.classList.remove("tracer-wide");
    var room = box.clientWidth;
    if (!room) {         // not shown (a hidden step): fitted when it is
      return;
    }
    if (natural <= room) {
      return;
    }
    box.classList.add("tracer-wide");
    image.style.maxWidth = "none";
    image.style.width = Math.round(Math.max(room, MIN_SCALE * natural)) + "px";
  }

  var figures = [];
  window.addEventListener("resize", function () { figures.forEach(fitFigure); });

  function fitFigures(root) {
    figures = Array.prototype.slice.call(
      root.querySelectorAll("article img[src$='.svg']"));
    figures.forEach(function (image) {
      if (image.complete) {
        fitFigure(image);
      }
      image.addEventListener("load", function () { fitFigure(image); });
    });
  }

  function start() {
    var root = document.body;
    fitFigures(root);
    typeset(root);
    var boxes = root.querySelectorAll(".tracer-steps");
    for (var i = 0; i < boxes.length; i++) {
      stepThrough(boxes[i]);
    }
  }

  typesetSearchResults();
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
