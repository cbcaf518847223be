// qunyun dashboard: the menu on phones, ECharts from embedded JSON, copy buttons.
// Everything here also runs on content HTMX swaps in (htmx.onLoad).
(function () {
  "use strict";

  var PALETTE = ["#0f766e", "#2563eb", "#d97706", "#dc2626", "#7c3aed"];
  var charts = [];

  function setUpMenu() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function seriesOption(item, index) {
    var option = {
      name: item.name, type: item.type || "line", data: item.data,
      yAxisIndex: item.axis || 0, smooth: item.type !== "bar", showSymbol: false,
      itemStyle: { color: item.color || PALETTE[index % PALETTE.length] },
      barMaxWidth: 14
    };
    if (item.stack) option.stack = item.stack;
    if (item.area) option.areaStyle = { opacity: 0.12 };
    return option;
  }

  function chartOption(spec) {
    var twoAxes = spec.series.some(function (s) { return s.axis === 1; });
    var axis = { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f3" } } };
    return {
      animation: false,
      grid: { left: 8, right: 8, top: 36, bottom: 4, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 8 },
      xAxis: { type: "category", data: spec.x, axisTick: { show: false },
               axisLabel: { color: "#616e7c" } },
      yAxis: twoAxes ? [axis, Object.assign({}, axis, { splitLine: { show: false } })] : axis,
      series: spec.series.map(seriesOption)
    };
  }

  function renderCharts(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll("[data-chart-src]").forEach(function (element) {
      if (element.dataset.rendered) return;
      var source = document.getElementById(element.dataset.chartSrc);
      if (!source) return;
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(chartOption(JSON.parse(source.textContent)));
      element.dataset.rendered = "1";
      charts.push(chart);
    });
    charts = charts.filter(function (chart) {
      if (document.body.contains(chart.getDom())) return true;
      chart.dispose();
      return false;
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (a LAN address on a phone): the clipboard API is absent; select and copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  function setUpCopy(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        copyText(source.textContent).then(function () {
          var label = button.textContent;
          button.classList.add("copied");
          button.textContent = button.dataset.copied || label;
          setTimeout(function () {
            button.classList.remove("copied");
            button.textContent = label;
          }, 1500);
        });
      });
    });
  }

  function setUp(root) {
    renderCharts(root);
    setUpCopy(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    if (window.htmx) {
      window.htmx.onLoad(setUp);
    } else {
      setUp(document);
    }
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
