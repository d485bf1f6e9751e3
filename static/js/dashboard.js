/* The indicator dashboards: draws each chart from the figures the page embeds
   (json_script "dashboard-data"), with ECharts (static/vendor/echarts). Charts follow their
   box's width, so they resize on a phone and when the window turns. */
(function () {
  "use strict";

  function series(rows) {
    return {
      labels: rows.map(function (row) { return row.label; }),
      counts: rows.map(function (row) { return row.count; }),
    };
  }

  function option(kind, name, data) {
    var grid = { left: 8, right: 16, top: 24, bottom: 8, containLabel: true };
    if (kind === "ranking") {
      var ranked = name === "ranking" ? data.ranking.rows : data[name];
      var rows = ranked.slice(0, 20).reverse();
      return {
        grid: grid,
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
        xAxis: { type: "value", name: "辍学率（%）" },
        yAxis: { type: "category", data: rows.map(function (row) { return row.name; }) },
        series: [{ type: "bar", name: "辍学率", data: rows.map(function (row) { return row.percent; }) }],
      };
    }
    var values = series(data.counts[name] || []);
    if (kind === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { type: "scroll", bottom: 0 },
        series: [{
          type: "pie",
          radius: ["30%", "60%"],
          center: ["50%", "45%"],
          // Reasons no child gave are left out of the ring (the table beside lists them all).
          data: values.labels
            .map(function (label, i) { return { name: label, value: values.counts[i] }; })
            .filter(function (item) { return item.value > 0; }),
        }],
      };
    }
    return {
      grid: grid,
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: values.labels, axisLabel: { interval: 0, rotate: values.labels.length > 6 ? 40 : 0 } },
      yAxis: { type: "value", name: "人数", minInterval: 1 },
      series: [{ type: kind === "line" ? "line" : "bar", name: "辍学人数", data: values.counts }],
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
      var chart = window.echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(option(box.dataset.kind, box.dataset.chart, data));
      box.dataset.drawn = "1";
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
