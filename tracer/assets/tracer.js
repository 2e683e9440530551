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

    Array.prototype.forEach.call(frames, function (frame, i) {
      var image = stepView(frame);
      if (image) {
        image.addEventListener("load", function () {
          if (i === shown) {
            focusStep(frame, false);
          }
        });
      }
    });

    function show(k, smooth) {
      shown = Math.max(0, Math.min(count - 1, k));
      for (var i = 0; i < count; i++) {
        frames[i].hidden = i !== shown;
        if (i === shown) {
          focusStep(frames[i], smooth);
          fitEquations(frames[i]);
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
      // A disabled button loses the focus, and with it the arrow keys: pass it on.
      var focused = document.activeElement;
      if (focused && focused.disabled && (focused === previous || focused === next)) {
        var other = focused === previous ? next : previous;
        if (other) {
          other.focus();
        }
      }
    }

    if (counter) {
      counter.setAttribute("aria-live", "polite");
    }
    if (previous) {
      previous.addEventListener("click", function () { show(shown - 1, true); });
    }
    if (next) {
      next.addEventListener("click", function () { show(shown + 1, true); });
    }
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") {
        show(shown - 1, true);
      } else if (event.key === "ArrowRight") {
        show(shown + 1, true);
      } else {
        return;
      }
      event.preventDefault();
    });
    box.classList.add("tracer-steps--live");
    show(0, false);
    liveSteps.push(function () { show(shown, false); });
  }

  // Each step's figure is shown in a view of its own (tracer.css), which scrolls both
  // ways, so that the step's edge and node (data-box, in the figure's units of
  // data-size, from the figures exporter) can be brought to its middle.  Returns the
  // frame's image, or null.
  function stepView(frame) {
    var image = frame.querySelector("img");
    if (!image) {
      return null;
    }
    if (!image.parentNode.classList.contains("tracer-step-view")) {
      var view = document.createElement("div");
      view.className = "tracer-step-view";
      image.parentNode.insertBefore(view, image);
      view.appendChild(image);
    }
    return image;
  }

  function numbers(text) {
    return (text || "").split(" ").filter(Boolean).map(Number);
  }

  var reducedMotion = window.matchMedia
    ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

  // Room kept between the step's box and the view's sides, in pixels.
  var STEP_MARGIN = 12;

  // Fits the step's figure (fitFigure), zooms it out further where the step's box would
  // not fit the view (an edge across a wide figure, on a phone), and scrolls the view so
  // that the box is in its middle: smoothly when stepping, unless reduced motion is asked
  // for.
  function focusStep(frame, smooth) {
    var image = frame.querySelector(".tracer-step-view img");
    if (!image) {
      return;
    }
    var view = image.parentNode;
    fitFigure(image);
    var box = numbers(frame.getAttribute("data-box"));
    var size = numbers(frame.getAttribute("data-size"));
    var width = image.getBoundingClientRect().width;
    if (box.length !== 4 || size.length !== 2 || !size[0] || !width || !view.clientWidth) {
      return;      // no box, not loaded yet, or not shown: focused when it is
    }
    var scale = width / size[0];
    var room = Math.max(1, view.clientWidth - 2 * STEP_MARGIN);
    var roomHeight = Math.max(1, view.clientHeight - 2 * STEP_MARGIN);
    var fits = Math.min(room / box[2], roomHeight / box[3]);
    if (fits < scale) {
      scale = fits;
      view.classList.add("tracer-wide");
      image.style.maxWidth = "none";
      image.style.width = Math.floor(size[0] * scale) + "px";
    }
    var left = image.offsetLeft + (box[0] + box[2] / 2) * scale - view.clientWidth / 2;
    var top = image.offsetTop + (box[1] + box[3] / 2) * scale - view.clientHeight / 2;
    var instant = !smooth || (reducedMotion && reducedMotion.matches) ||
                  typeof view.scrollTo !== "function";
    if (instant) {
      view.scrollLeft = Math.max(0, left);
      view.scrollTop = Math.max(0, top);
    } else {
      view.scrollTo({ left: Math.max(0, left), top: Math.max(0, top), behavior: "smooth" });
    }
  }

  // A step's equation that is still wider than the column (a long formula on a phone)
  // is set smaller until it fits, instead of being cut off.
  function fitEquations(frame) {
    var formulas = frame.querySelectorAll("figcaption .arithmatex");
    for (var i = 0; i < formulas.length; i++) {
      typesetOne(formulas[i]);
      var display = formulas[i].querySelector(".katex-display");
      if (!display) {
        continue;
      }
      display.style.fontSize = "";
      var room = display.clientWidth;
      var needed = display.scrollWidth;
      if (room && needed > room + 1) {
        display.style.fontSize = Math.max(50, Math.floor(100 * room / needed)) + "%";
      }
    }
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
  var liveSteps = [];     // each step-through's refresh, after a resize
  window.addEventListener("resize", function () {
    figures.forEach(fitFigure);
    liveSteps.forEach(function (refresh) { refresh(); });
  });

  // The figures outside the step-throughs (those are fitted as their step is shown).
  function fitFigures(root) {
    figures = Array.prototype.slice.call(
      root.querySelectorAll("article img[src$='.svg']")).filter(function (image) {
        return !(image.closest && image.closest(".tracer-step"));
      });
    figures.forEach(function (image) {
      if (image.complete) {
        fitFigure(image);
      }
      image.addEventListener("load", function () { fitFigure(image); });
    });
  }

  function start() {
    var root = document.body;
    liveSteps = [];
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
