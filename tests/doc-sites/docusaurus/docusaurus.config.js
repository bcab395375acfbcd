export default {
  title: "Pleo integration guide",
  url: "http://127.0.0.1",
  baseUrl: "/site/",
  onBrokenLinks: "throw",
  presets: [["classic", { docs: { routeBasePath: "docs" }, blog: false }]],
};
